import { jitterHalfWidthMs, MAX_JITTER_RATIO } from "@novatrade/domain";
import type { Clock } from "./clock.js";

/**
 * Retries read before they are due and kept in memory until then, so the records behind them
 * in their tier partition are read on.
 *
 * A tier holds one delay, but each retry's delay carries jitter, so a partition's records are
 * in due order only to within twice the jitter half-width. Holding the partition at the first
 * record not yet due (seek back, fetch again once it is) made every retry behind it wait for it:
 * up to 1 % of the delay late by design, and more when the tier's retries came due at the rate
 * the sender can attempt them. A retry due within its tier's jitter spread is timed here
 * instead; one due later still holds the partition. Taken retries stay uncommitted until their
 * attempt is written, like any record in flight, so a crash reads them again.
 */
export class RetryLookahead {
  /** `partition:topic` → offset → cancel of its timer. */
  readonly #byPartition = new Map<string, Map<string, () => void>>();
  #size = 0;

  constructor(
    private readonly clock: Clock,
    /** Retries waiting here at most; beyond it, partitions are held as before. */
    private readonly maxWaiting: number,
  ) {}

  /** Whether another retry may be taken ahead of its due time. */
  hasRoom(): boolean {
    return this.#size < this.maxWaiting;
  }

  get size(): number {
    return this.#size;
  }

  /**
   * Runs `due` after `delayMs`, unless its partition is revoked (`retainOnly`) or everything is
   * dropped (`clear`) first. A record already waiting is rescheduled.
   */
  schedule(topic: string, partition: number, offset: string, delayMs: number, due: () => void): void {
    const key = `${partition}:${topic}`;
    let waiting = this.#byPartition.get(key);
    if (!waiting) this.#byPartition.set(key, (waiting = new Map()));
    const previous = waiting.get(offset);
    if (previous) previous();
    else this.#size++;
    waiting.set(
      offset,
      this.clock.schedule(delayMs, () => {
        this.#forget(key, offset);
        due();
      }),
    );
  }

  /** After a rebalance: retries of partitions no longer assigned are dropped (their new owner reads them). */
  retainOnly(assigned: ReadonlySet<string>): void {
    for (const key of [...this.#byPartition.keys()]) {
      if (assigned.has(key)) continue;
      for (const cancel of this.#byPartition.get(key)!.values()) cancel();
      this.#size -= this.#byPartition.get(key)!.size;
      this.#byPartition.delete(key);
    }
  }

  /** Drops every waiting retry (shutdown): they were not committed and are read again. */
  clear(): void {
    for (const waiting of this.#byPartition.values()) for (const cancel of waiting.values()) cancel();
    this.#byPartition.clear();
    this.#size = 0;
  }

  #forget(key: string, offset: string): void {
    const waiting = this.#byPartition.get(key);
    if (!waiting?.delete(offset)) return;
    this.#size--;
    if (waiting.size === 0) this.#byPartition.delete(key);
  }
}

/** Below this, a retry not yet due is always waited for in memory: holding costs more than that. */
const MIN_LOOKAHEAD_MS = 100;

/**
 * How far ahead of its due time a retry is taken: the spread of due times within its tier (twice
 * the largest jitter half-width of its delay), at least `MIN_LOOKAHEAD_MS`.
 * @param retrySchedule the delivery's delays; `attempt` is the attempt this retry is (2 or more).
 */
export function retryLookaheadMs(retrySchedule: readonly number[], attempt: number): number {
  const delay = retrySchedule[attempt - 2];
  const spread = delay === undefined ? 0 : 2 * jitterHalfWidthMs(delay, MAX_JITTER_RATIO);
  return Math.max(MIN_LOOKAHEAD_MS, spread);
}
