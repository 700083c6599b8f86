import { WebhookVerificationError } from "./verification-error.js";

const PREFIX = "whsec_";
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The HMAC key of a `whsec_<base64>` secret: the bytes its base64 part decodes to. Both the
 * X-Novatrade-Signature and the Standard Webhooks signature use this same key.
 * @throws WebhookVerificationError("malformed_secret") without echoing the secret.
 */
export function signingKey(secret: string): Buffer {
  const encoded = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : "";
  if (!BASE64.test(encoded)) {
    throw new WebhookVerificationError("malformed_secret", `a signing secret must be ${PREFIX} followed by base64`);
  }
  const key = Buffer.from(encoded, "base64");
  if (key.length < 16) throw new WebhookVerificationError("malformed_secret", "a signing secret must hold at least 16 key bytes");
  return key;
}
