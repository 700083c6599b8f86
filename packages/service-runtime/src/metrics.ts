import { createServer, type Server, type ServerResponse } from "node:http";
import { collectDefaultMetrics, Registry } from "prom-client";

/** One registry per service process, created in main.ts and handed to every component. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: "novatrade_" });
  return registry;
}

export interface OpsServer {
  /** The port actually bound (useful when 0 was asked for). */
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `/metrics` for Prometheus, `/healthz` (liveness: 503 only when a restart would help, e.g.
 * a consumer crashed for good) and `/readyz` (readiness: the service can do its work now). Both
 * are asked on each probe.
 */
export async function startOpsServer(options: {
  registry: Registry;
  host: string;
  port: number;
  isLive?: () => boolean;
  isReady?: () => boolean | Promise<boolean>;
}): Promise<OpsServer> {
  const answer = (response: ServerResponse, ok: boolean, yes: string, no: string) => {
    response.writeHead(ok ? 200 : 503, { "content-type": "application/json" });
    response.end(JSON.stringify({ status: ok ? yes : no }));
  };
  const server: Server = createServer((request, response) => {
    if (request.url === "/metrics") {
      options.registry
        .metrics()
        .then((body) => {
          response.writeHead(200, { "content-type": options.registry.contentType });
          response.end(body);
        })
        .catch((error: unknown) => {
          response.writeHead(500, { "content-type": "text/plain" });
          response.end(String(error));
        });
      return;
    }
    if (request.url === "/healthz") {
      answer(response, options.isLive?.() ?? true, "ok", "unhealthy");
      return;
    }
    if (request.url === "/readyz") {
      Promise.resolve()
        .then(() => options.isReady?.() ?? true)
        .then(
          (ready) => answer(response, ready, "ready", "not ready"),
          () => answer(response, false, "ready", "not ready"),
        );
      return;
    }
    response.writeHead(404, { "content-type": "text/plain" });
    response.end("not found");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
