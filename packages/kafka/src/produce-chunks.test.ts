import { describe, expect, test } from "vitest";
import { chunkTopicMessages } from "./produce-chunks.js";

const message = (bytes: number, key = "k") => ({ key, value: Buffer.alloc(bytes) });

describe("chunkTopicMessages", () => {
  test("keeps every message and each topic's order, in requests under the bound", () => {
    const a = Array.from({ length: 2_000 }, (_, index) => message(600, `a${index}`));
    const b = Array.from({ length: 500 }, (_, index) => message(600, `b${index}`));
    const requests = chunkTopicMessages([{ topic: "a", messages: a }, { topic: "b", messages: b }], 256 * 1024);
    expect(requests.length).toBeGreaterThan(2);
    const flat = (topic: string) => requests.flat().filter((entry) => entry.topic === topic).flatMap((entry) => entry.messages);
    expect(flat("a")).toEqual(a);
    expect(flat("b")).toEqual(b);
    for (const request of requests) {
      const bytes = request.flatMap((entry) => entry.messages).reduce((sum, entry) => sum + 64 + 2 + (entry.value?.length ?? 0), 0);
      expect(bytes).toBeLessThanOrEqual(256 * 1024 + 64);
    }
  });

  test("small sends to several topics share one request", () => {
    const requests = chunkTopicMessages([
      { topic: "outcomes", messages: [message(100)] },
      { topic: "retry.0", messages: [message(100)] },
    ]);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.map((entry) => entry.topic)).toEqual(["outcomes", "retry.0"]);
  });

  test("a message larger than the bound goes alone; nothing to send makes no request", () => {
    expect(chunkTopicMessages([{ topic: "t", messages: [message(10), message(5_000), message(10)] }], 1_000).map((r) => r[0]!.messages.length)).toEqual([1, 1, 1]);
    expect(chunkTopicMessages([{ topic: "t", messages: [] }])).toEqual([]);
  });
});
