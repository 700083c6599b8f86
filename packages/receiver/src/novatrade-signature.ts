import { hmacSha256, sameBytes } from "./constant-time.js";
import { WebhookVerificationError } from "./verification-error.js";

/** The header as parsed: the signed timestamp and every `v1=` MAC (several during a rotation). */
export interface NovatradeSignature {
  /** Unix seconds. */
  timestampSeconds: number;
  /** Raw MAC bytes, one per `v1=` entry. */
  macs: Buffer[];
}

/**
 * Parses `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`. Unknown schemes (`v0=`, `v2=`) are ignored so
 * that a new scheme can be added without breaking receivers.
 * @throws WebhookVerificationError("malformed_header")
 */
export function parseNovatradeSignature(header: string): NovatradeSignature {
  let timestamp: string | undefined;
  const macs: Buffer[] = [];
  for (const item of header.split(",")) {
    const [name, value, ...rest] = item.trim().split("=");
    if (value === undefined || rest.length > 0) throw malformed();
    if (name === "t") {
      if (timestamp !== undefined) throw malformed();
      timestamp = value;
    } else if (name === "v1" && /^[0-9a-fA-F]{64}$/.test(value)) {
      macs.push(Buffer.from(value, "hex"));
    }
  }
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp) || macs.length === 0) throw malformed();
  return { timestampSeconds: Number(timestamp), macs };
}

function malformed(): WebhookVerificationError {
  return new WebhookVerificationError("malformed_header", "X-Novatrade-Signature must be t=<unix seconds>,v1=<hex>[,v1=<hex>]");
}

/**
 * True when one of the header's MACs is HMAC-SHA256(key, "<t>.<raw body>") for one of the keys.
 * The timestamp is checked by the caller (one tolerance for both schemes).
 */
export function novatradeSignatureMatches(signature: NovatradeSignature, rawBody: Buffer, keys: readonly Buffer[]): boolean {
  return keys.some((key) => {
    const expected = hmacSha256(key, `${signature.timestampSeconds}.`, rawBody);
    return signature.macs.some((mac) => sameBytes(mac, expected));
  });
}
