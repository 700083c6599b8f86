import { createHmac, timingSafeEqual } from "node:crypto";

/** HMAC-SHA256 of the concatenated parts. */
export function hmacSha256(key: Buffer, ...parts: Array<Buffer | string>): Buffer {
  const mac = createHmac("sha256", key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/**
 * True when `candidate` equals `expected`, compared in constant time: how long the comparison
 * takes says nothing about how many leading bytes matched. Different lengths are simply false.
 */
export function sameBytes(candidate: Buffer, expected: Buffer): boolean {
  return candidate.length === expected.length && timingSafeEqual(candidate, expected);
}
