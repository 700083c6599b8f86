import type { IHeaders, KafkaMessage as ClientMessage, Message as ClientOutgoingMessage } from "kafkajs";

/** A record as handlers see it, whatever client read it. */
export interface KafkaMessage {
  topic: string;
  partition: number;
  /** 64-bit offset as a decimal string. */
  offset: string;
  key: Buffer | null;
  /** null for a tombstone on a compacted topic. */
  value: Buffer | null;
  /** Header values decoded as UTF-8; when a key repeats, the last value wins (as Java's `lastHeader`). */
  headers: Record<string, string>;
  /** Record timestamp, in milliseconds since the epoch. */
  timestamp: number;
}

/** A record to produce. */
export interface OutgoingMessage {
  key?: Buffer | string | null;
  /** null writes a tombstone (compacted topics). */
  value: Buffer | null;
  headers?: Record<string, string>;
  /** Pin the partition; otherwise the key decides (murmur2, the same as the Java client). */
  partition?: number;
  /** Record timestamp in milliseconds since the epoch; the broker's clock when omitted. */
  timestamp?: number;
}

function headerValue(value: Buffer | string): string {
  return typeof value === "string" ? value : value.toString("utf8");
}

export function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const decoded: Record<string, string> = {};
  if (!headers) return decoded;
  for (const [name, raw] of Object.entries(headers)) {
    if (raw === undefined) continue;
    if (Array.isArray(raw)) {
      const last = raw[raw.length - 1];
      if (last !== undefined) decoded[name] = headerValue(last);
    } else {
      decoded[name] = headerValue(raw);
    }
  }
  return decoded;
}

export function fromClientMessage(topic: string, partition: number, message: ClientMessage): KafkaMessage {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key ?? null,
    value: message.value ?? null,
    headers: decodeHeaders(message.headers),
    timestamp: Number(message.timestamp),
  };
}

/**
 * The record with its key and value copied out of the fetch response they are views of. A
 * record kept after its batch is handled (queued for an endpoint, timed until due) would
 * otherwise keep the whole response alive: up to a megabyte per partition for a kilobyte.
 */
export function detachedMessage(message: KafkaMessage): KafkaMessage {
  return {
    ...message,
    key: message.key === null ? null : Buffer.from(message.key),
    value: message.value === null ? null : Buffer.from(message.value),
  };
}

export function toClientMessage(message: OutgoingMessage): ClientOutgoingMessage {
  const out: ClientOutgoingMessage = { value: message.value };
  if (message.key !== undefined) out.key = message.key;
  if (message.headers !== undefined) out.headers = { ...message.headers };
  if (message.partition !== undefined) out.partition = message.partition;
  if (message.timestamp !== undefined) out.timestamp = String(message.timestamp);
  return out;
}
