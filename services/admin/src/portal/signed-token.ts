import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Signed, expiring tokens: `<base64url JSON>.<base64url HMAC-SHA256>`. The `purpose` is part
 * of what is signed, so a portal link cannot be presented as a session cookie or the reverse.
 * Pure: the key and the clock come from the caller.
 */
export interface TokenClaims {
  /** Expiry, epoch milliseconds. */
  exp: number;
  [claim: string]: unknown;
}

function mac(key: Buffer, purpose: string, payload: string): Buffer {
  return createHmac("sha256", key).update(`${purpose}.${payload}`).digest();
}

export function signToken(key: Buffer, purpose: string, claims: TokenClaims): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  return `${payload}.${mac(key, purpose, payload).toString("base64url")}`;
}

/** The claims of a token signed with `key` for `purpose` and not expired at `now`; null otherwise. */
export function verifyToken(key: Buffer, purpose: string, token: string, now: number): TokenClaims | null {
  const [payload, signature, extra] = token.split(".");
  if (!payload || !signature || extra !== undefined) return null;
  const expected = mac(key, purpose, payload);
  const presented = Buffer.from(signature, "base64url");
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return null;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (typeof claims !== "object" || claims === null || typeof (claims as TokenClaims).exp !== "number") return null;
  return (claims as TokenClaims).exp > now ? (claims as TokenClaims) : null;
}
