import type { TopicPartitionOffset } from "@novatrade/kafka";

/**
 * The domain offsets up to which everything was routed (its writes acknowledged), committed off
 * the routing path: a batch's commit no longer delays the next fetch, where the next events wait.
 * One commit at a time, each carrying the latest routed offset of every partition that moved
 * (two in flight could be answered out of order and move a committed offset back). Partitions
 * revoked at a rebalance are dropped: their new owner reads from the last commit.
 */
export class RoutedOffsets {
  /** `partition:topic` → the next offset to read, not yet committed. */
  readonly #pending = new Map<string, TopicPartitionOffset>();
  #last: Promise<void> = Promise.resolve();

  constructor(
    private readonly commit: (offsets: TopicPartitionOffset[]) => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Everything before `offset` (the next to read) in this partition was routed. */
  routed(topic: string, partition: number, offset: string): void {
    const key = `${partition}:${topic}`;
    const previous = this.#pending.get(key);
    if (previous && BigInt(previous.offset) >= BigInt(offset)) return;
    this.#pending.set(key, { topic, partition, offset });
  }

  /** Commits what is pending; resolves once this commit and every earlier one have ended. */
  commitNow(): Promise<void> {
    this.#last = this.#last.then(async () => {
      if (this.#pending.size === 0) return;
      const offsets = [...this.#pending.values()];
      this.#pending.clear();
      try {
        await this.commit(offsets);
      } catch (error) {
        // Kept for the next commit unless newer ones came meanwhile (or a rebalance drops them).
        for (const { topic, partition, offset } of offsets) this.routed(topic, partition, offset);
        this.onError(error);
      }
    });
    return this.#last;
  }

  /** After a rebalance: partitions no longer assigned (keys `partition:topic`) are dropped. */
  retainOnly(assigned: ReadonlySet<string>): void {
    for (const key of [...this.#pending.keys()]) if (!assigned.has(key)) this.#pending.delete(key);
  }
}
