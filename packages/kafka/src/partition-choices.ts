/**
 * Which partition the client's partitioner chose for each message of a send, so a send can be
 * checked against the broker's acknowledgements.
 *
 * Why: kafkajs 2.2.4 (`producer/sendMessages.js`) remembers, across the retries of one send, the
 * brokers that already answered, not the partitions. When a leader moves between two tries (a
 * broker killed or restarted in a cluster), a partition that failed on the old leader and now
 * belongs to a broker that already answered is never sent again, and the send resolves as if
 * everything were written. Comparing the partitions chosen with the partitions acknowledged
 * turns that silent loss into a retriable failure.
 */
export class PartitionChoices {
  // Keyed by the message object the client hands its partitioner (kafkajs passes ours through).
  private readonly chosen = new WeakMap<object, number>();

  /** Called by the partitioner for every message of every try; the last choice wins. */
  record(message: object, partition: number): void {
    this.chosen.set(message, partition);
  }

  /**
   * The topic partitions that messages of this send went to (or were meant for) with no
   * acknowledgement, with how many messages each. A message the partitioner never saw (pinned to
   * a partition by the caller) counts under its own `partition`.
   */
  unacknowledged(
    sent: ReadonlyArray<{ topic: string; messages: ReadonlyArray<object & { partition?: number }> }>,
    acknowledged: ReadonlyArray<{ topic: string; partition: number }>,
  ): Array<{ topic: string; partition: number; messages: number }> {
    const acked = new Set(acknowledged.map((ack) => `${ack.topic}\u0000${ack.partition}`));
    const missing = new Map<string, { topic: string; partition: number; messages: number }>();
    for (const { topic, messages } of sent) {
      for (const message of messages) {
        const partition = this.chosen.get(message) ?? message.partition;
        // Neither chosen nor pinned: the client never got as far as partitioning it, and then it
        // did not report success either.
        if (partition === undefined) continue;
        const key = `${topic}\u0000${partition}`;
        if (acked.has(key)) continue;
        const entry = missing.get(key) ?? { topic, partition, messages: 0 };
        entry.messages += 1;
        missing.set(key, entry);
      }
    }
    return [...missing.values()];
  }
}

/** Wraps a kafkajs-style partitioner so every choice it makes is recorded. */
export function recordingPartitioner<Args extends { message: object }>(
  choices: PartitionChoices,
  partitioner: (args: Args) => number,
): (args: Args) => number {
  return (args) => {
    const partition = partitioner(args);
    choices.record(args.message, partition);
    return partition;
  };
}
