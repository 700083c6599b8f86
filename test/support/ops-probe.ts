import { createServer } from "node:net";

/** A loopback port free right now, for a service's ops server that a test must probe before it has started. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address !== "object") throw new Error("no port");
  return address.port;
}

/** `/healthz` (liveness) of a service's ops server: its HTTP status, or null while nothing listens. */
export function healthz(port: number): Promise<number | null> {
  return probe(port, "/healthz");
}

/** `/readyz` (readiness: can do its work now) of a service's ops server: its HTTP status, or null while nothing listens. */
export function readyz(port: number): Promise<number | null> {
  return probe(port, "/readyz");
}

async function probe(port: number, path: string): Promise<number | null> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return null;
  }
}
