import { describe, expect, test } from "vitest";
import { RetryDueWatch } from "./retry-due-watch.js";

describe("RetryDueWatch", () => {
  test("the oldest unfinished retry per topic, across partitions", () => {
    const watch = new RetryDueWatch();
    watch.seen("retry.5m", 0, "10", 1_000);
    watch.seen("retry.5m", 0, "11", 2_000);
    watch.seen("retry.5m", 1, "3", 1_500);
    watch.seen("retry.2h", 0, "7", 9_000);
    expect(Object.fromEntries(watch.oldestDueByTopic())).toEqual({ "retry.5m": 1_000, "retry.2h": 9_000 });

    watch.done("retry.5m", 0, "10");
    expect(watch.oldestDueByTopic().get("retry.5m")).toBe(1_500);
    watch.done("retry.5m", 1, "3");
    expect(watch.oldestDueByTopic().get("retry.5m")).toBe(2_000);
    watch.done("retry.5m", 0, "11");
    expect(watch.oldestDueByTopic().has("retry.5m")).toBe(false);
  });

  test("a held record read again is remembered once", () => {
    const watch = new RetryDueWatch();
    watch.seen("retry.5m", 0, "10", 1_000);
    watch.seen("retry.5m", 0, "10", 1_000);
    watch.done("retry.5m", 0, "10");
    expect(watch.oldestDueByTopic().size).toBe(0);
  });

  test("partitions taken away by a rebalance are forgotten", () => {
    const watch = new RetryDueWatch();
    watch.seen("retry.5m", 0, "10", 1_000);
    watch.seen("retry.5m", 1, "4", 5_000);
    watch.retainOnly(new Set(["1:retry.5m"]));
    expect(watch.oldestDueByTopic().get("retry.5m")).toBe(5_000);
  });
});
