import { createRequire } from "node:module";
import type { ICustomPartitioner } from "kafkajs";

const require = createRequire(import.meta.url);
/** kafkajs' own partitioner logic (explicit partition, keyed, round robin), given a hash function. */
const withHash = require("kafkajs/src/producer/partitioners/legacy/partitioner.js") as (hash: (key: Buffer | string) => number) => ICustomPartitioner;

const M = 0x5bd1e995;

/**
 * Kafka's murmur2 (the Java client's `Utils.murmur2`), in 32-bit integer arithmetic. kafkajs
 * computes the same hash with 64-bit Long objects, a dozen allocations per 4 bytes of key: the
 * partitioner was a tenth of the router's CPU per delivery request. Same inputs, same outputs
 * (the test compares them), so records keep their partitions.
 */
export function murmur2(key: Buffer | string): number {
  const data = Buffer.isBuffer(key) ? key : Buffer.from(String(key));
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  switch (length & 3) {
    case 3:
      h ^= data[whole + 2]! << 16;
    // falls through
    case 2:
      h ^= data[whole + 1]! << 8;
    // falls through
    case 1:
      h ^= data[whole]!;
      h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** kafkajs' DefaultPartitioner (Java-compatible murmur2), with the hash above. */
export const Murmur2Partitioner: ICustomPartitioner = withHash(murmur2);
