import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ReceivedRequest } from "./receiver.js";

/** What a gated receiver does with a request: answer now, or hold it open until the test answers it. */
export type GatedBehaviour = (request: ReceivedRequest) => { status: number } | "hold";

/**
 * A loopback receiver whose held requests the test answers when it chooses, so a test can keep
 * an attempt in flight exactly as long as it needs to.
 */
export async function startGatedReceiver(behaviour: GatedBehaviour) {
  const requests: ReceivedRequest[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const request: ReceivedRequest = { headers: req.headers, body, json: JSON.parse(body) as ReceivedRequest["json"], receivedAt: Date.now() };
      requests.push(request);
      const answer = behaviour(request);
      if (answer === "hold") held.push(res);
      else res.writeHead(answer.status, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    requests,
    /** Requests held open now. */
    held: () => held.length,
    /** Answers every held request. */
    answerHeld(status = 200): void {
      for (const res of held.splice(0)) res.writeHead(status, { "content-type": "text/plain" }).end("ok");
    },
    close: async () => {
      for (const res of held.splice(0)) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The attempt number a delivery carries. */
export function attemptOf(request: ReceivedRequest): number {
  return Number(request.headers["x-novatrade-attempt"]);
}
