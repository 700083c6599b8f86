import { describe, expect, test } from "vitest";
import type { KafkaClient } from "./kafka-client.js";
import { offsetRangeByTime, rangeSize } from "./range-reader.js";

/** An admin answering offsets-by-timestamp from a table: instant → offsets per partition. */
function adminOf(bounds: Array<{ partition: number; low: string; high: string }>, byTime: Record<number, Array<{ partition: number; offset: string }>>): Pick<KafkaClient, "admin"> {
  return {
    admin: {
      fetchTopicOffsets: async () => bounds.map((b) => ({ ...b, offset: b.high })),
      fetchTopicOffsetsByTimestamp: async (_topic: string, at: number) => byTime[at] ?? [],
    } as unknown as KafkaClient["admin"],
  };
}

describe("offsetRangeByTime", () => {
  test("per partition: from the first record at or after `from` to the first at or after `to`", async () => {
    const ranges = await offsetRangeByTime(
      adminOf([{ partition: 0, low: "0", high: "100" }, { partition: 1, low: "10", high: "50" }], {
        1_000: [{ partition: 0, offset: "20" }, { partition: 1, offset: "12" }],
        2_000: [{ partition: 0, offset: "60" }, { partition: 1, offset: "30" }],
      }),
      "t",
      1_000,
      2_000,
    );
    expect(ranges).toEqual([{ partition: 0, start: "20", end: "60" }, { partition: 1, start: "12", end: "30" }]);
    expect(rangeSize(ranges)).toBe(58);
  });

  test("no record after an instant (-1) means the end of the partition; retention-deleted starts move to the first offset kept", async () => {
    const ranges = await offsetRangeByTime(
      adminOf([{ partition: 0, low: "40", high: "100" }], { 1_000: [{ partition: 0, offset: "5" }], 2_000: [{ partition: 0, offset: "-1" }] }),
      "t",
      1_000,
      2_000,
    );
    expect(ranges).toEqual([{ partition: 0, start: "40", end: "100" }]);
  });

  test("an open end (null) is the end of each partition now; an empty range has size 0", async () => {
    const open = await offsetRangeByTime(adminOf([{ partition: 0, low: "0", high: "7" }], { 1_000: [{ partition: 0, offset: "7" }] }), "t", 1_000, null);
    expect(open).toEqual([{ partition: 0, start: "7", end: "7" }]);
    expect(rangeSize(open)).toBe(0);
  });
});
