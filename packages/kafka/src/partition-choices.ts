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
    // By topic, then partition number: no string built per message (this runs for every record written).
    const acked = new Map<string, Set<number>>();
    for (const { topic, partition } of acknowledged) {
      const partitions = acked.get(topic);
      if (partitions) partitions.add(partition);
      else acked.set(topic, new Set([partition]));
    }
    const missing: Array<{ topic: string; partition: number; messages: number }> = [];
    for (const { topic, messages } of sent) {
      const ackedPartitions = acked.get(topic);
      const missingHere = new Map<number, { topic: string; partition: number; messages: number }>();
      for (const message of messages) {
        const partition = this.chosen.get(message) ?? message.partition;
        // Neither chosen nor pinned: the client never got as far as partitioning it, and then it
        // did not report success either.
        if (partition === undefined || ackedPartitions?.has(partition)) continue;
        let entry = missingHere.get(partition);
        if (!entry) {
          // A topic named twice in one send adds to the entry of its first mention.
          entry = missing.find((seen) => seen.topic === topic && seen.partition === partition) ?? { topic, partition, messages: 0 };
          if (entry.messages === 0) missing.push(entry);
          missingHere.set(partition, entry);
        }
        entry.messages += 1;
      }
    }
    return missing;
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
