import type { DeadLetterRecord } from "./internal-records.js";

/** The parts of a consumed Kafka record a dead letter keeps (structurally a KafkaMessage). */
export interface FailedRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/**
 * A dead letter for a record that cannot be processed: the original bytes untouched (nothing is
 * lost, it can be fixed and re-produced), where it came from, and why it failed.
 */
export function deadLetterFor(record: FailedRecord, error: Error, failedBy: string, failedAt: number): DeadLetterRecord {
  return {
    originalTopic: record.topic,
    originalPartition: record.partition,
    // Avro long read into a JS number: exact up to 2^53, far beyond any real offset.
    originalOffset: Number(record.offset),
    originalTimestamp: record.timestamp,
    key: record.key,
    value: record.value,
    headers: Object.entries(record.headers).map(([key, value]) => ({ key, value: Buffer.from(value, "utf8") })),
    reason: error.message,
    errorClass: error.name,
    failedBy,
    failedAt,
  };
}
