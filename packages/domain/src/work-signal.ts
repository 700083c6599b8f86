import { isLegalTopicName, topicNames, type TopicNaming } from "./delivery-topic.js";

/**
 * A work signal: the delivery topics a router batch (or a sender's park) just wrote to, one
 * name a line. Plain text, not Avro: it is read by the senders only, at once, and carries no
 * event data. A name that is not a legal topic is dropped when read (never trusted blindly).
 */
export function encodeWorkSignal(topics: Iterable<string>): Buffer {
  return Buffer.from([...new Set(topics)].join("\n"), "utf8");
}

/** The work signal naming `topics`, and the topic it is written to. */
export function workSignalRecord(naming: TopicNaming, topics: Iterable<string>): { topic: string; value: Buffer } {
  return { topic: topicNames(naming).workSignals, value: encodeWorkSignal(topics) };
}

export function decodeWorkSignal(value: Buffer | null): string[] {
  if (value === null || value.length === 0) return [];
  return [...new Set(value.toString("utf8").split("\n"))].filter(isLegalTopicName);
}
