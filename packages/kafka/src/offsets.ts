/**
 * Kafka offsets are 64-bit; the adapter passes them as decimal strings so none is ever rounded
 * by a JavaScript number.
 */

/** The offset to commit once `offset` has been handled: consumers resume at the committed offset. */
export function nextOffset(offset: string): string {
  return (parseOffset(offset) + 1n).toString();
}

/** Negative, like `a < b`, zero when equal, positive when `a > b`. */
export function compareOffsets(a: string, b: string): number {
  const left = parseOffset(a);
  const right = parseOffset(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

function parseOffset(offset: string): bigint {
  if (!/^-?\d+$/.test(offset)) throw new RangeError(`not an offset: ${JSON.stringify(offset)}`);
  return BigInt(offset);
}
