import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Who a key speaks for: one organization, or the operators (ops routes, key management). */
export type ApiKeyKind = "organization" | "operator";

export interface GeneratedKey {
  /** The whole key; shown once, never stored. */
  key: string;
  /** What is stored and shown afterwards: identifies the key, proves nothing. */
  prefix: string;
  hash: Buffer;
}

const KEY_PATTERN = /^(nvk_[oa]_[0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** A new key: `nvk_o_<12 hex>_<32 random bytes base64url>` (`nvk_a_` for operators). */
export function generateApiKey(kind: ApiKeyKind, random: (size: number) => Buffer = randomBytes): GeneratedKey {
  const prefix = `nvk_${kind === "operator" ? "a" : "o"}_${random(6).toString("hex")}`;
  const key = `${prefix}_${random(32).toString("base64url")}`;
  return { key, prefix, hash: hashApiKey(key) };
}

export function hashApiKey(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}

/** The stored prefix of a presented key, or null when it is not shaped like one of ours. */
export function apiKeyPrefix(key: string): string | null {
  return KEY_PATTERN.exec(key)?.[1] ?? null;
}

/** Compares in constant time (over fixed-length hashes), so timing reveals nothing about the key. */
export function apiKeyMatches(presented: string, storedHash: Buffer): boolean {
  const hash = hashApiKey(presented);
  return hash.length === storedHash.length && timingSafeEqual(hash, storedHash);
}
