/**
 * The due time of the oldest retry this sender has read and not yet finished, per retry topic:
 * what `novatrade_sender_retry_oldest_due_timestamp_seconds{tier}` reports. A retry topic holds
 * one delay, so its records come in due order and a partition's oldest unfinished record is the
 * first one still remembered. Records of a partition held until due are remembered too: they are
 * the head that is waited for.
 */
export class RetryDueWatch {
  /** `partition:topic` → offset → due time (epoch ms), in the order read. */
  readonly #pending = new Map<string, { topic: string; due: Map<string, number> }>();

  /** A retry record was read (attempted next, queued, or its partition held at it). */
  seen(topic: string, partition: number, offset: string, notBefore: number): void {
    const key = `${partition}:${topic}`;
    let entry = this.#pending.get(key);
    if (!entry) this.#pending.set(key, (entry = { topic, due: new Map() }));
    entry.due.set(offset, notBefore);
  }

  /** The record is finished (attempted and written, parked, skipped or dead-lettered). */
  done(topic: string, partition: number, offset: string): void {
    const key = `${partition}:${topic}`;
    const entry = this.#pending.get(key);
    if (!entry) return;
    entry.due.delete(offset);
    if (entry.due.size === 0) this.#pending.delete(key);
  }

  /** After a rebalance: partitions no longer assigned (keys `partition:topic`) are forgotten. */
  retainOnly(assigned: ReadonlySet<string>): void {
    for (const key of [...this.#pending.keys()]) if (!assigned.has(key)) this.#pending.delete(key);
  }

  /** Earliest due time (epoch ms) of what is unfinished, per topic. */
  oldestDueByTopic(): Map<string, number> {
    const oldest = new Map<string, number>();
    for (const { topic, due } of this.#pending.values()) {
      for (const notBefore of due.values()) {
        oldest.set(topic, Math.min(oldest.get(topic) ?? Infinity, notBefore));
        break; // in due order: the first is the oldest of its partition
      }
    }
    return oldest;
  }
}
