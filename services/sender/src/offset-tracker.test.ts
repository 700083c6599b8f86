import { describe, expect, test } from "vitest";
import { OffsetTracker } from "./offset-tracker.js";

describe("OffsetTracker", () => {
  test("commits past everything once all seen messages completed", () => {
    const tracker = new OffsetTracker();
    for (const offset of ["0", "1", "2"]) tracker.begin("t", 0, offset);
    for (const offset of ["0", "1", "2"]) tracker.complete("t", 0, offset);
    expect(tracker.committable()).toEqual([{ topic: "t", partition: 0, offset: "3" }]);
  });

  test("out-of-order completion holds the commit at the lowest offset in flight", () => {
    const tracker = new OffsetTracker();
    for (const offset of ["5", "6", "7"]) tracker.begin("t", 0, offset);
    tracker.complete("t", 0, "7");
    tracker.complete("t", 0, "6");
    expect(tracker.committable()).toEqual([{ topic: "t", partition: 0, offset: "5" }]);
    tracker.complete("t", 0, "5");
    expect(tracker.committable()).toEqual([{ topic: "t", partition: 0, offset: "8" }]);
  });

  test("reports a partition only when its committable offset moved", () => {
    const tracker = new OffsetTracker();
    tracker.begin("t", 1, "10");
    tracker.complete("t", 1, "10");
    const first = tracker.committable();
    tracker.markCommitted(first);
    expect(tracker.committable()).toEqual([]);
    tracker.begin("t", 1, "11");
    // 11 is in flight, so the committable offset stays 11, which was committed already.
    expect(tracker.committable()).toEqual([]);
    tracker.complete("t", 1, "11");
    expect(tracker.committable()).toEqual([{ topic: "t", partition: 1, offset: "12" }]);
  });

  test("keeps partitions and topics apart, with 64-bit offsets", () => {
    const tracker = new OffsetTracker();
    tracker.begin("a", 0, "9007199254740993");
    tracker.begin("a", 1, "1");
    tracker.begin("b:c", 0, "4");
    tracker.complete("a", 1, "1");
    expect(tracker.committable()).toEqual(
      expect.arrayContaining([
        { topic: "a", partition: 0, offset: "9007199254740993" },
        { topic: "a", partition: 1, offset: "2" },
        { topic: "b:c", partition: 0, offset: "4" },
      ]),
    );
    expect(tracker.committable()).toHaveLength(3);
  });

  test("forgetting a revoked partition drops its state", () => {
    const tracker = new OffsetTracker();
    tracker.begin("t", 0, "3");
    tracker.forget("t", 0);
    expect(tracker.committable()).toEqual([]);
    expect(tracker.hasSeen("t", 0, "3")).toBe(false);
  });
});
