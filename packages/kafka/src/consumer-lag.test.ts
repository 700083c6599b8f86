import { describe, expect, test } from "vitest";
import { sumLagByKind } from "./consumer-lag.js";

const kindOf = (topic: string) => (topic.startsWith("delivery.") ? "delivery" : topic);

describe("sumLagByKind", () => {
  test("sums end minus committed per kind, never per topic", () => {
    const lag = sumLagByKind(
      [
        { topic: "delivery.a", partition: 0, low: "0", high: "10", committed: "4" },
        { topic: "delivery.b", partition: 0, low: "0", high: "7", committed: "7" },
        { topic: "delivery.b", partition: 1, low: "0", high: "3", committed: "1" },
        { topic: "events", partition: 0, low: "0", high: "100", committed: "90" },
      ],
      kindOf,
    );
    expect(Object.fromEntries(lag)).toEqual({ delivery: 8, events: 10 });
  });

  test("a partition never committed counts from the first offset still in the log", () => {
    const lag = sumLagByKind(
      [
        { topic: "events", partition: 0, low: "40", high: "100", committed: null },
        { topic: "events", partition: 1, low: "5", high: "9", committed: "-1" },
      ],
      kindOf,
    );
    expect(lag.get("events")).toBe(64);
  });

  test("a committed offset past the end (a truncated log) is no negative lag", () => {
    expect(sumLagByKind([{ topic: "events", partition: 0, low: "0", high: "5", committed: "9" }], kindOf).get("events")).toBe(0);
  });
});
