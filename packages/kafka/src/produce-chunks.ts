import type { OutgoingMessage } from "./kafka-message.js";

/**
 * Most bytes one produce request carries. The broker refuses a record batch larger than its
 * message.max.bytes (1 MiB by default) and a caller retrying such a send would retry forever,
 * so sends are split well below that.
 */
export const MAX_PRODUCE_REQUEST_BYTES = 512 * 1024;

/** Rough size of a record on the wire: value, key, headers and per-record overhead. */
function approximateSize(message: OutgoingMessage): number {
  let size = 64 + (message.value?.length ?? 0);
  if (message.key) size += typeof message.key === "string" ? Buffer.byteLength(message.key) : message.key.length;
  for (const [name, value] of Object.entries(message.headers ?? {})) size += name.length + Buffer.byteLength(value);
  return size;
}

export interface TopicMessages {
  topic: string;
  messages: OutgoingMessage[];
}

/**
 * Splits what is to be sent into requests of at most `maxBytes`, keeping every message and the
 * order of each topic's messages. A single message larger than the bound goes alone.
 */
export function chunkTopicMessages(batches: TopicMessages[], maxBytes = MAX_PRODUCE_REQUEST_BYTES): TopicMessages[][] {
  const requests: TopicMessages[][] = [];
  let current: TopicMessages[] = [];
  let size = 0;
  const add = (topic: string, message: OutgoingMessage, bytes: number) => {
    const last = current.at(-1);
    if (last && last.topic === topic) last.messages.push(message);
    else current.push({ topic, messages: [message] });
    size += bytes;
  };
  for (const { topic, messages } of batches) {
    for (const message of messages) {
      const bytes = approximateSize(message);
      if (current.length > 0 && size + bytes > maxBytes) {
        requests.push(current);
        current = [];
        size = 0;
      }
      add(topic, message, bytes);
    }
  }
  if (current.length > 0) requests.push(current);
  return requests;
}
