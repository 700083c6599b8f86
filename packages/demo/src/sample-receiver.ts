import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createNodeHttpListener, createWebhookReceiver, type WebhookEvent, type WebhookVerificationError } from "@novatrade/receiver";

/** The demo's receiver: a plain node:http server around the receiver kit. */
export interface SampleReceiver {
  url: string;
  /** Starts verifying with this secret; until then every request is refused (503). */
  useSecret(secret: string): void;
  close(): Promise<void>;
}

export interface SampleReceiverOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Epoch milliseconds, for the signatures' timestamp tolerance. */
  now: () => number;
  onEvent(event: WebhookEvent): void;
  onRejected(error: WebhookVerificationError): void;
}

export async function startSampleReceiver(options: SampleReceiverOptions): Promise<SampleReceiver> {
  let listener: ((request: IncomingMessage, response: ServerResponse) => void) | undefined;
  const server = createServer((request, response) => {
    if (!listener) {
      response.writeHead(503).end();
      return;
    }
    listener(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}/webhooks`,
    useSecret(secret) {
      // Both schemes must verify: X-Novatrade-Signature and the Standard Webhooks headers.
      const receiver = createWebhookReceiver({ secrets: [secret], schemes: ["novatrade", "standard-webhooks"], now: options.now });
      listener = createNodeHttpListener(receiver, options.onEvent, { onRejected: options.onRejected });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
