import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { waitUntil } from "./wait-until.js";

export interface ReceivedRequest {
  /** Header names lower-cased, as node gives them. */
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as received (what the signature covers). */
  body: string;
  json: { id: string; type: string; schemaVersion: number; data: Record<string, unknown> } & Record<string, unknown>;
  receivedAt: number;
}

/** What the receiver does with the n-th request (0-based): answer, or never answer. */
export type ReceiverBehaviour = (request: ReceivedRequest, index: number) =>
  | { status: number; body?: string; headers?: Record<string, string> }
  | "hang";

/** A real HTTP endpoint on loopback, recording every request it gets. */
export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  /** Distinct event ids received. */
  eventIds(): Set<string>;
  waitForRequests(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startReceiver(behaviour: ReceiverBehaviour = () => ({ status: 200, body: "ok" }), path = "/hooks"): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let json: ReceivedRequest["json"];
      try {
        json = JSON.parse(body) as ReceivedRequest["json"];
      } catch {
        json = { id: "", type: "", schemaVersion: 0, data: {} };
      }
      const request: ReceivedRequest = { headers: req.headers, body, json, receivedAt: Date.now() };
      const index = requests.length;
      requests.push(request);
      const answer = behaviour(request, index);
      if (answer === "hang") {
        hanging.add(res);
        return;
      }
      res.writeHead(answer.status, { "content-type": "text/plain", ...answer.headers });
      res.end(answer.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    requests,
    eventIds: () => new Set(requests.map((request) => request.json.id)),
    waitForRequests: (count, timeoutMs) =>
      waitUntil(() => requests.length >= count && requests, { timeoutMs, what: `${count} requests at ${path} (got ${requests.length})` }),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
