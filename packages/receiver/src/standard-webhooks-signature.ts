import { hmacSha256, sameBytes } from "./constant-time.js";
import { WebhookVerificationError } from "./verification-error.js";

/** The three Standard Webhooks headers of one delivery. */
export interface StandardWebhooksHeaders {
  /** `webhook-id`: the event id, stable across retries. */
  id: string;
  /** `webhook-timestamp`, unix seconds. */
  timestampSeconds: number;
  /** Raw MAC bytes of every `v1,<base64>` entry of `webhook-signature` (space-separated). */
  macs: Buffer[];
}

/** @throws WebhookVerificationError("malformed_header") */
export function parseStandardWebhooksHeaders(id: string, timestamp: string, signature: string): StandardWebhooksHeaders {
  if (id === "" || !/^\d{1,12}$/.test(timestamp)) {
    throw new WebhookVerificationError("malformed_header", "webhook-id must be non-empty and webhook-timestamp unix seconds");
  }
  const macs = signature
    .split(" ")
    .filter((entry) => entry.startsWith("v1,"))
    .map((entry) => Buffer.from(entry.slice(3), "base64"));
  if (macs.length === 0) throw new WebhookVerificationError("malformed_header", "webhook-signature must hold at least one v1,<base64>");
  return { id, timestampSeconds: Number(timestamp), macs };
}

/** True when one MAC is HMAC-SHA256(key, "<id>.<t>.<raw body>") for one of the keys. */
export function standardWebhooksSignatureMatches(headers: StandardWebhooksHeaders, rawBody: Buffer, keys: readonly Buffer[]): boolean {
  return keys.some((key) => {
    const expected = hmacSha256(key, `${headers.id}.${headers.timestampSeconds}.`, rawBody);
    return headers.macs.some((mac) => sameBytes(mac, expected));
  });
}
