/**
 * Which offset of a partition may be committed when messages finish out of order.
 *
 * The sender hands messages to per-endpoint queues and keeps consuming, so message 7 can finish
 * before message 5. Committing 8 then would lose 5 and 6 on a crash; the committable offset is
 * therefore the lowest offset still in flight (or one past the highest seen when none is).
 * Offsets are bigint because Kafka offsets are 64-bit.
 */
export class OffsetTracker {
  readonly #inFlight = new Map<string, Set<bigint>>();
  readonly #nextAfterSeen = new Map<string, bigint>();
  readonly #committed = new Map<string, bigint>();

  /** A message was taken from the partition and is being handled. */
  begin(topic: string, partition: number, offset: string): void {
    const key = partitionKey(topic, partition);
    const value = BigInt(offset);
    let set = this.#inFlight.get(key);
    if (!set) this.#inFlight.set(key, (set = new Set()));
    set.add(value);
    const next = value + 1n;
    if ((this.#nextAfterSeen.get(key) ?? -1n) < next) this.#nextAfterSeen.set(key, next);
  }

  /** The message's work is durable (outcome and any retry acknowledged by Kafka). */
  complete(topic: string, partition: number, offset: string): void {
    this.#inFlight.get(partitionKey(topic, partition))?.delete(BigInt(offset));
  }

  /**
   * Offsets to commit now: per partition, the next offset to read after a restart, only where it
   * moved since the last call to `markCommitted`.
   */
  committable(): Array<{ topic: string; partition: number; offset: string }> {
    const result: Array<{ topic: string; partition: number; offset: string }> = [];
    for (const [key, next] of this.#nextAfterSeen) {
      const inFlight = this.#inFlight.get(key);
      let lowest = next;
      if (inFlight) for (const offset of inFlight) if (offset < lowest) lowest = offset;
      if (lowest !== this.#committed.get(key)) {
        const { topic, partition } = splitKey(key);
        result.push({ topic, partition, offset: lowest.toString() });
      }
    }
    return result;
  }

  markCommitted(entries: Array<{ topic: string; partition: number; offset: string }>): void {
    for (const entry of entries) this.#committed.set(partitionKey(entry.topic, entry.partition), BigInt(entry.offset));
  }


  /**
   * True for an offset this tracker already took (in flight or done since the last commit), such
   * as a record read again after a rebalance that left its partition here.
   */
  hasSeen(topic: string, partition: number, offset: string): boolean {
    const next = this.#nextAfterSeen.get(partitionKey(topic, partition));
    return next !== undefined && BigInt(offset) < next;
  }

  /** After a rebalance: drops every partition not in `assigned` (keys `partition:topic`). */
  retainOnly(assigned: ReadonlySet<string>): void {
    for (const key of [...this.#nextAfterSeen.keys()]) {
      if (!assigned.has(key)) {
        const { topic, partition } = splitKey(key);
        this.forget(topic, partition);
      }
    }
  }

  /** A partition was revoked: forget it; whatever is uncommitted is read again by its owner. */
  forget(topic: string, partition: number): void {
    const key = partitionKey(topic, partition);
    this.#inFlight.delete(key);
    this.#nextAfterSeen.delete(key);
    this.#committed.delete(key);
  }
}

function partitionKey(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}

function splitKey(key: string): { topic: string; partition: number } {
  const colon = key.indexOf(":");
  return { partition: Number(key.slice(0, colon)), topic: key.slice(colon + 1) };
}
