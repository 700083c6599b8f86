import type { KafkaConsumer, TopicPartitionOffset } from "@novatrade/kafka";
import type { Clock } from "./clock.js";

interface HeldPartition {
  topic: string;
  partition: number;
  /** Why it is held, each with the cancel of its timed release (null: released by an event). */
  reasons: Map<string, (() => void) | null>;
}

/**
 * The one owner of pause, seek and resume for one consumer. A partition is held at a record (the
 * record is read again once the partition resumes) for one or more reasons, and resumes only
 * when the last reason is lifted, so two kinds of hold can never undo each other. Holding pauses
 * and seeks as one operation (`KafkaConsumer.pauseAt`), so it cannot half-happen.
 */
export class PartitionGate {
  readonly #held = new Map<string, HeldPartition>();

  constructor(
    private readonly consumer: Pick<KafkaConsumer, "pauseAt" | "resume">,
    private readonly clock: Clock,
  ) {}

  /**
   * Holds the partition at `position` for `reason`; with `releaseAfterMs`, that reason lifts
   * itself after so many milliseconds (a retry not yet due, an endpoint not known yet).
   */
  hold(position: TopicPartitionOffset, reason: string, releaseAfterMs: number | null): void {
    const key = keyOf(position.topic, position.partition);
    let held = this.#held.get(key);
    if (!held) this.#held.set(key, (held = { topic: position.topic, partition: position.partition, reasons: new Map() }));
    held.reasons.get(reason)?.();
    held.reasons.set(reason, releaseAfterMs === null ? null : this.clock.schedule(releaseAfterMs, () => this.release(position.topic, position.partition, reason)));
    this.consumer.pauseAt(position);
  }

  /** Lifts `reason` from one partition; it resumes when no reason is left. */
  release(topic: string, partition: number, reason: string): void {
    const key = keyOf(topic, partition);
    const held = this.#held.get(key);
    if (!held || !held.reasons.has(reason)) return;
    held.reasons.get(reason)?.();
    held.reasons.delete(reason);
    if (held.reasons.size > 0) return;
    this.#held.delete(key);
    this.consumer.resume([{ topic, partitions: [partition] }]);
  }

  /** Lifts `reason` from every held partition of `topic`. */
  releaseTopic(topic: string, reason: string): void {
    for (const held of [...this.#held.values()]) if (held.topic === topic) this.release(held.topic, held.partition, reason);
  }

  /** Partitions held for `reason`. */
  count(reason: string): number {
    let count = 0;
    for (const held of this.#held.values()) if (held.reasons.has(reason)) count++;
    return count;
  }

  /**
   * After a rebalance: partitions no longer assigned (keys `partition:topic`) are forgotten and
   * resumed, so one assigned again later is not left paused without anyone to resume it.
   */
  retainOnly(assigned: ReadonlySet<string>): void {
    for (const [key, held] of [...this.#held]) {
      if (assigned.has(key)) continue;
      for (const cancel of held.reasons.values()) cancel?.();
      this.#held.delete(key);
      this.consumer.resume([{ topic: held.topic, partitions: [held.partition] }]);
    }
  }

  /** Cancels every timed release (shutdown); the partitions stay paused. */
  clear(): void {
    for (const held of this.#held.values()) for (const cancel of held.reasons.values()) cancel?.();
    this.#held.clear();
  }
}

function keyOf(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}
