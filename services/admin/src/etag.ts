import { createHash } from "node:crypto";

/**
 * A strong ETag of a representation: the hash of exactly the JSON that is sent, so two
 * answers share a tag only when they are byte-identical (RFC 9110 §8.8.3).
 */
export function strongEtag(body: unknown): string {
  return `"${createHash("sha256").update(JSON.stringify(body)).digest("base64url")}"`;
}

/** Whether an `If-None-Match` header matches `etag` (a list, `*`, or weak forms of it). */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((candidate) => candidate.trim().replace(/^W\//, "") === etag);
}
