import { createServer, type Server } from "node:http";
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
 * Serves `/metrics` for Prometheus and `/healthz` for orchestrators. `isHealthy` is asked on each
 * probe so a consumer that has crashed shows up as unhealthy.
 */
export async function startOpsServer(options: {
  registry: Registry;
  host: string;
  port: number;
  isHealthy?: () => boolean;
}): Promise<OpsServer> {
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
      const healthy = options.isHealthy?.() ?? true;
      response.writeHead(healthy ? 200 : 503, { "content-type": "application/json" });
      response.end(JSON.stringify({ status: healthy ? "ok" : "unhealthy" }));
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
