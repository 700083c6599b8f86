import { createHmac, timingSafeEqual } from "node:crypto";
import { ValidationError } from "./errors.js";

/**
 * Delivery signatures (SPEC §4). A secret is `whsec_<base64>`; the HMAC key is the bytes the
 * base64 part decodes to, and both signature schemes use that same key:
 * - `X-Novatrade-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256("<t>.<body>")>[,v1=…]`;
 * - Standard Webhooks: `webhook-id`, `webhook-timestamp`,
 *   `webhook-signature: v1,<base64 HMAC-SHA256("<id>.<t>.<body>")>[ v1,…]`.
 * During a rotation the caller passes both secrets and every signature appears once per secret,
 * so receivers holding either secret verify.
 *
 * Error messages never contain a secret or a key.
 */

export const SECRET_PREFIX = "whsec_";
/** Shortest key accepted, in bytes (Standard Webhooks: between 24 and 64 bytes). */
export const MIN_SECRET_KEY_BYTES = 24;
/** Longest key accepted, in bytes. */
export const MAX_SECRET_KEY_BYTES = 64;

export const NOVATRADE_SIGNATURE_HEADER = "X-Novatrade-Signature";

/** The signature headers of one delivery, under the names they are sent with. */
export interface SignatureHeaders {
  "X-Novatrade-Signature": string;
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Makes a new secret from random bytes supplied by the caller (e.g. `crypto.randomBytes(32)`),
 * so this stays deterministic under test.
 * @throws ValidationError when there are fewer than 24 or more than 64 bytes.
 */
export function generateSecret(randomBytes: Buffer): string {
  checkKeyLength(randomBytes.length, "randomBytes");
  return `${SECRET_PREFIX}${randomBytes.toString("base64")}`;
}

/**
 * The HMAC key of a secret.
 * @throws ValidationError (naming `field`, never echoing the value) when the secret lacks the
 *   `whsec_` prefix, is not canonical padded base64, or decodes to fewer than 24 / more than 64 bytes.
 */
export function parseSecret(secret: unknown, field = "secret"): Buffer {
  if (typeof secret !== "string" || !secret.startsWith(SECRET_PREFIX)) {
    throw new ValidationError(field, `must be a string starting with ${SECRET_PREFIX}`);
  }
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (encoded === "" || !CANONICAL_BASE64.test(encoded)) {
    throw new ValidationError(field, `must be ${SECRET_PREFIX} followed by standard padded base64`);
  }
  const key = Buffer.from(encoded, "base64");
  checkKeyLength(key.length, field);
  return key;
}

function checkKeyLength(length: number, field: string): void {
  if (length < MIN_SECRET_KEY_BYTES || length > MAX_SECRET_KEY_BYTES) {
    throw new ValidationError(field, `key must be ${MIN_SECRET_KEY_BYTES} to ${MAX_SECRET_KEY_BYTES} bytes, got ${length}`);
  }
}

function toBytes(body: Buffer | string): Buffer {
  return typeof body === "string" ? Buffer.from(body, "utf8") : body;
}

function hmac(key: Buffer, ...parts: Buffer[]): Buffer {
  const mac = createHmac("sha256", key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

function checkTimestamp(timestampSeconds: number): void {
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new RangeError(`timestampSeconds must be a non-negative integer (unix seconds), got ${timestampSeconds}`);
  }
}

export interface SignDeliveryInput {
  /**
   * The Standard Webhooks message id: must stay the same across retries of the same message.
   * The event id is the natural choice (it is the receivers' dedupe key).
   */
  webhookId: string;
  /** Unix time of this attempt, in seconds. */
  timestampSeconds: number;
  /** Exactly the bytes sent; a string is signed as its UTF-8 encoding. */
  body: Buffer | string;
  /** One secret, or the old and new ones during a rotation. Duplicates are signed once. */
  secrets: readonly string[];
}

/**
 * Signs one attempt.
 * @throws ValidationError for a malformed secret (`secrets[i]`) or an empty secret list.
 */
export function signDelivery(input: SignDeliveryInput): SignatureHeaders {
  const { webhookId, timestampSeconds } = input;
  checkTimestamp(timestampSeconds);
  if (webhookId === "" || /[\s,.]/.test(webhookId)) {
    // A dot would make "<id>.<t>.<body>" ambiguous; whitespace or commas break header parsing.
    throw new ValidationError("webhookId", "must be non-empty and contain no whitespace, commas or dots");
  }
  if (input.secrets.length === 0) throw new ValidationError("secrets", "must contain at least one secret");
  const keys = input.secrets.map((secret, i) => parseSecret(secret, `secrets[${i}]`));
  const uniqueKeys = keys.filter((key, i) => keys.findIndex((other) => other.equals(key)) === i);
  const body = toBytes(input.body);
  const t = String(timestampSeconds);
  const novatradeSigned = Buffer.from(`${t}.`, "utf8");
  const standardSigned = Buffer.from(`${webhookId}.${t}.`, "utf8");
  return {
    "X-Novatrade-Signature": [`t=${t}`, ...uniqueKeys.map((key) => `v1=${hmac(key, novatradeSigned, body).toString("hex")}`)].join(","),
    "webhook-id": webhookId,
    "webhook-timestamp": t,
    "webhook-signature": uniqueKeys.map((key) => `v1,${hmac(key, standardSigned, body).toString("base64")}`).join(" "),
  };
}

export type SignatureVerification =
  | { valid: true; timestampSeconds: number }
  | { valid: false; reason: "malformed_header" | "timestamp_out_of_tolerance" | "no_matching_signature" };

/** Default tolerance between the signed timestamp and the receiver's clock, in seconds. */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

/**
 * Verifies an `X-Novatrade-Signature` header the way an integrator should: parse `t` and every
 * `v1`, reject timestamps more than `toleranceSeconds` away from `nowSeconds` (replay
 * protection), and compare MACs in constant time. Unknown schemes (`v0=`, `v2=`) are ignored so
 * that new schemes can be added without breaking receivers.
 * @param body the raw request body bytes, before any JSON parsing.
 * @param nowSeconds the receiver's current unix time, in seconds.
 * @throws ValidationError only for a malformed secret.
 */
export function verifyNovatradeSignature(
  header: string,
  body: Buffer | string,
  secret: string,
  nowSeconds: number,
  toleranceSeconds: number = DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
): SignatureVerification {
  const key = parseSecret(secret);
  let timestamp: string | undefined;
  const candidates: string[] = [];
  for (const item of header.split(",")) {
    const eq = item.indexOf("=");
    if (eq < 0) return { valid: false, reason: "malformed_header" };
    const name = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (name === "t") {
      if (timestamp !== undefined) return { valid: false, reason: "malformed_header" };
      timestamp = value;
    } else if (name === "v1") {
      candidates.push(value);
    }
  }
  if (timestamp === undefined || !/^\d{1,15}$/.test(timestamp) || candidates.length === 0) {
    return { valid: false, reason: "malformed_header" };
  }
  const t = Number(timestamp);
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return { valid: false, reason: "timestamp_out_of_tolerance" };
  const expected = hmac(key, Buffer.from(`${timestamp}.`, "utf8"), toBytes(body));
  for (const candidate of candidates) {
    if (!/^[0-9a-f]{64}$/i.test(candidate)) continue;
    if (timingSafeEqual(Buffer.from(candidate, "hex"), expected)) return { valid: true, timestampSeconds: t };
  }
  return { valid: false, reason: "no_matching_signature" };
}
