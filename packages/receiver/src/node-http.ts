import type { IncomingMessage, ServerResponse } from "node:http";
import type { WebhookEvent, WebhookReceiver } from "./webhook-receiver.js";
import { WebhookVerificationError } from "./verification-error.js";

/** Bodies are small (the dispatcher documents its maximum); anything larger is refused unread. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

class BodyTooLarge extends Error {}

function readRawBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        // Stop buffering; the caller answers 413 and then closes the connection.
        request.removeAllListeners("data");
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function answer(response: ServerResponse, status: number, body: Record<string, unknown>): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

export interface NodeHttpListenerOptions {
  /** Largest body read, in bytes (default 1 MiB); larger requests get 413. */
  maxBodyBytes?: number;
  /** Told about every refused delivery (for your log); never given a secret. */
  onRejected?: (error: WebhookVerificationError) => void;
}

/**
 * A `(request, response)` listener for `node:http` (and anything built on it): reads the raw
 * body, verifies it, runs `onEvent` once per event id, and answers 200 (processed or duplicate),
 * 400/401 (refused: not retried usefully, fix the secret) or 500 (your handler failed: the
 * dispatcher retries).
 */
export function createNodeHttpListener(
  receiver: WebhookReceiver,
  onEvent: (event: WebhookEvent) => Promise<void> | void,
  options: NodeHttpListenerOptions = {},
): (request: IncomingMessage, response: ServerResponse) => void {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return (request, response) => {
    void (async () => {
      let rawBody: Buffer;
      try {
        rawBody = await readRawBody(request, maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLarge) {
          response.on("finish", () => request.destroy());
          response.setHeader("connection", "close");
          answer(response, 413, { error: "body too large" });
        } else {
          answer(response, 400, { error: "body could not be read" });
        }
        return;
      }
      try {
        const { duplicate } = await receiver.handle(request.headers, rawBody, onEvent);
        answer(response, 200, { received: true, duplicate });
      } catch (error) {
        if (error instanceof WebhookVerificationError) {
          options.onRejected?.(error);
          answer(response, error.reason === "invalid_body" ? 400 : 401, { error: error.reason });
          return;
        }
        answer(response, 500, { error: "processing failed" });
      }
    })();
  };
}
