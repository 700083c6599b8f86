import { randomUUID } from "node:crypto";
import type { KafkaClient } from "./kafka-client.js";
import type { KafkaMessage } from "./kafka-message.js";

/** Offsets of one partition to read: from `start` (inclusive) to `end` (exclusive). */
export interface PartitionRange {
  partition: number;
  /** 64-bit offset as a decimal string. */
  start: string;
  end: string;
}

/**
 * The offsets of `topic` between two instants: per partition, the first record at or after
 * `fromMs` up to (not including) the first record at or after `toMs`. A `toMs` of null means
 * the end of the partition now. Kafka answers offsets-by-timestamp from its time index.
 */
export async function offsetRangeByTime(kafka: Pick<KafkaClient, "admin">, topic: string, fromMs: number, toMs: number | null): Promise<PartitionRange[]> {
  const [starts, ends, bounds] = await Promise.all([
    kafka.admin.fetchTopicOffsetsByTimestamp(topic, fromMs),
    toMs === null ? Promise.resolve(null) : kafka.admin.fetchTopicOffsetsByTimestamp(topic, toMs),
    kafka.admin.fetchTopicOffsets(topic),
  ]);
  return bounds.map(({ partition, low, high }) => {
    // No record at or after the instant: Kafka answers -1 or the high watermark; both mean "the end".
    const clamp = (offset: string | undefined) => {
      const value = offset === undefined || offset.startsWith("-") ? BigInt(high) : BigInt(offset);
      return value < BigInt(low) ? BigInt(low) : value > BigInt(high) ? BigInt(high) : value;
    };
    const start = clamp(starts.find((entry) => entry.partition === partition)?.offset);
    const end = ends === null ? BigInt(high) : clamp(ends.find((entry) => entry.partition === partition)?.offset);
    return { partition, start: String(start), end: String(end < start ? start : end) };
  });
}

/** Records in a set of ranges: what a reader has to read in total. */
export function rangeSize(ranges: readonly PartitionRange[]): number {
  return ranges.reduce((sum, range) => sum + Number(BigInt(range.end) - BigInt(range.start)), 0);
}

export interface ReadRangeOptions {
  /** Names the reader's own throw-away consumer group: `<groupPrefix><uuid>`. */
  groupPrefix: string;
  /** Called with each batch of records inside the ranges, in offset order per partition. */
  onRecords: (records: KafkaMessage[]) => Promise<void>;
  /** Checked between batches: true stops the read early (the reader resolves). */
  isCancelled?: () => boolean;
}

/**
 * Reads the records of `ranges` on `topic` once, with a consumer group of its own that starts at
 * each range's start: it never reads or moves another group's offsets (the sender's group stays
 * untouched, and kafkajs would refuse to move an active group anyway). Resolves once every range
 * has been read (or the read was cancelled); the group is deleted afterwards.
 */
export async function readTopicRanges(kafka: KafkaClient, topic: string, ranges: readonly PartitionRange[], options: ReadRangeOptions): Promise<void> {
  const pending = new Map(ranges.filter((range) => BigInt(range.end) > BigInt(range.start)).map((range) => [range.partition, range]));
  if (pending.size === 0) return;
  const groupId = `${options.groupPrefix}${randomUUID()}`;
  // Every partition gets a start: the ones outside the ranges start at their end, and are never read.
  const bounds = await kafka.admin.fetchTopicOffsets(topic);
  await kafka.admin.setGroupOffsets(
    groupId,
    bounds.map(({ partition, high }) => ({ topic, partition, offset: pending.get(partition)?.start ?? high })),
  );
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const consumer = kafka.createConsumer({ groupId, topics: [topic], fromBeginning: true });
  try {
    await consumer.run({
      autoCommit: false,
      eachBatch: async (batch, context) => {
        const range = pending.get(batch.partition);
        if (!range) return;
        const end = BigInt(range.end);
        const inside = batch.messages.filter((message) => BigInt(message.offset) < end && BigInt(message.offset) >= BigInt(range.start));
        try {
          if (inside.length > 0) await options.onRecords(inside);
        } catch (error) {
          fail(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        await context.heartbeat().catch(() => undefined);
        const last = batch.messages[batch.messages.length - 1];
        if (last && BigInt(last.offset) + 1n >= end) pending.delete(batch.partition);
        if (pending.size === 0 || options.isCancelled?.()) finish();
      },
      onHandlerError: () => "rethrow",
    });
    if (options.isCancelled?.()) finish();
    await done;
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await kafka.admin.deleteGroups([groupId]).catch(() => undefined);
  }
}
