import { describe, expect, test } from "vitest";
import { chunkForProduce } from "./router-service.js";

const message = (bytes: number) => ({ key: "k", value: Buffer.alloc(bytes) });

describe("chunkForProduce", () => {
  test("keeps every message, in order, in sends under the byte bound", () => {
    const messages = Array.from({ length: 3_000 }, (_, index) => ({ key: String(index), value: Buffer.alloc(600) }));
    const chunks = chunkForProduce(messages, 512 * 1024);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.flat()).toEqual(messages);
    for (const chunk of chunks) {
      expect(chunk.reduce((sum, entry) => sum + (entry.value?.length ?? 0) + 64, 0)).toBeLessThanOrEqual(512 * 1024);
    }
  });

  test("a message larger than the bound still goes, alone", () => {
    const chunks = chunkForProduce([message(10), message(2_000), message(10)], 1_000);
    expect(chunks.map((chunk) => chunk.length)).toEqual([1, 1, 1]);
  });

  test("nothing to send, no sends", () => {
    expect(chunkForProduce([])).toEqual([]);
  });
});
