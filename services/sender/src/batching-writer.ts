import type { OutgoingMessage, TopicMessages } from "@novatrade/kafka";

export interface TopicRecord {
  topic: string;
  message: OutgoingMessage;
}

/**
 * Gathers the Kafka writes of many concurrent delivery jobs into shared produce requests.
 *
 * The idempotent producer keeps one request in flight, so one request per attempt would cap
 * the sender at one round trip per delivery. Here the first write goes out at once; writes that
 * arrive while it is in flight leave together in the next request. Each caller's promise
 * settles with the request that carried its records, so "durable before the offset counts as
 * done" still holds per job. No timer, no added latency when idle.
 */
export class BatchingWriter {
  readonly #send: (batches: TopicMessages[]) => Promise<unknown>;
  #queue: Array<{ records: TopicRecord[]; resolve: () => void; reject: (error: unknown) => void }> = [];
  #flushing = false;

  constructor(send: (batches: TopicMessages[]) => Promise<unknown>) {
    this.#send = send;
  }

  write(records: TopicRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#queue.push({ records, resolve, reject });
      if (!this.#flushing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#queue.length > 0) {
        const pending = this.#queue;
        this.#queue = [];
        const byTopic = new Map<string, OutgoingMessage[]>();
        for (const { records } of pending) {
          for (const record of records) {
            const list = byTopic.get(record.topic);
            if (list) list.push(record.message);
            else byTopic.set(record.topic, [record.message]);
          }
        }
        try {
          await this.#send([...byTopic].map(([topic, messages]) => ({ topic, messages })));
          for (const entry of pending) entry.resolve();
        } catch (error) {
          for (const entry of pending) entry.reject(error);
        }
      }
    } finally {
      this.#flushing = false;
    }
  }
}
