import { describe, expect, test } from "vitest";
import type { TopicMessages } from "@novatrade/kafka";
import { BatchingWriter } from "./batching-writer.js";

const record = (topic: string, key: string) => ({ topic, message: { key, value: Buffer.from(key) } });

/** A send the test completes by hand, recording what each request carried. */
function controlledSend() {
  const requests: TopicMessages[][] = [];
  const pending: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  const send = (batches: TopicMessages[]) =>
    new Promise<void>((resolve, reject) => {
      requests.push(batches);
      pending.push({ resolve, reject });
    });
  return { send, requests, pending };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("BatchingWriter", () => {
  test("the first write goes out alone at once; writes arriving meanwhile share the next request", async () => {
    const { send, requests, pending } = controlledSend();
    const writer = new BatchingWriter(send);
    const first = writer.write([record("outcomes", "a")]);
    expect(requests).toHaveLength(1);
    const second = writer.write([record("outcomes", "b"), record("retry.0", "b")]);
    const third = writer.write([record("outcomes", "c")]);
    expect(requests).toHaveLength(1);
    pending[0]!.resolve();
    await first;
    await flush();
    expect(requests).toHaveLength(2);
    expect(requests[1]).toEqual([
      { topic: "outcomes", messages: [record("outcomes", "b").message, record("outcomes", "c").message] },
      { topic: "retry.0", messages: [record("retry.0", "b").message] },
    ]);
    pending[1]!.resolve();
    await Promise.all([second, third]);
  });

  test("a failed request rejects exactly the writes it carried; later writes go on", async () => {
    const { send, requests, pending } = controlledSend();
    const writer = new BatchingWriter(send);
    const failed = writer.write([record("outcomes", "a")]);
    const next = writer.write([record("outcomes", "b")]);
    pending[0]!.reject(new Error("broker down"));
    await expect(failed).rejects.toThrow("broker down");
    await flush();
    expect(requests).toHaveLength(2);
    pending[1]!.resolve();
    await expect(next).resolves.toBeUndefined();
  });

  test("writing nothing sends nothing", async () => {
    const { send, requests } = controlledSend();
    await new BatchingWriter(send).write([]);
    expect(requests).toHaveLength(0);
  });
});
