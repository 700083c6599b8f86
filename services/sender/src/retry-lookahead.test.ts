import { describe, expect, it } from "vitest";
import { manualClock } from "./manual-clock.js";
import { RetryLookahead, retryLookaheadMs } from "./retry-lookahead.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe("retryLookaheadMs: a tier's jitter spread", () => {
  it.each<[string, number[], number, number]>([
    ["5 min tier, attempt 2: twice 0.5 % of 5 min", [5 * MINUTE], 2, 3_000],
    ["the delay of the attempt it is, not the first", [5_000, 5 * MINUTE], 3, 3_000],
    ["a short tier: never under 100 ms", [5_000], 2, 100],
    ["a long tier: the jitter half-width is capped at 30 s", [20 * HOUR], 2, 60_000],
    ["attempt beyond the schedule (not a retry of it): 100 ms", [5_000], 5, 100],
  ])("%s", (_case, schedule, attempt, expected) => {
    expect(retryLookaheadMs(schedule, attempt)).toBe(expected);
  });
});

describe("RetryLookahead", () => {
  it("runs each retry when its time comes, in due order whatever order they were taken in", () => {
    const clock = manualClock(0);
    const lookahead = new RetryLookahead(clock, 10);
    const ran: string[] = [];
    lookahead.schedule("t", 0, "1", 300, () => ran.push("1"));
    lookahead.schedule("t", 0, "2", 100, () => ran.push("2"));
    lookahead.schedule("t", 1, "7", 200, () => ran.push("7"));
    expect(lookahead.size).toBe(3);
    clock.advance(99);
    expect(ran).toEqual([]);
    clock.advance(201);
    expect(ran).toEqual(["2", "7", "1"]);
    expect(lookahead.size).toBe(0);
  });

  it("has room for maxWaiting retries; a rescheduled one does not count twice", () => {
    const clock = manualClock(0);
    const lookahead = new RetryLookahead(clock, 2);
    lookahead.schedule("t", 0, "1", 100, () => {});
    expect(lookahead.hasRoom()).toBe(true);
    lookahead.schedule("t", 0, "2", 100, () => {});
    expect(lookahead.hasRoom()).toBe(false);
    let ran = 0;
    lookahead.schedule("t", 0, "2", 500, () => ran++); // rescheduled: the first timer is cancelled
    expect(lookahead.size).toBe(2);
    clock.advance(100);
    expect([ran, lookahead.size, lookahead.hasRoom()]).toEqual([0, 1, true]);
    clock.advance(400);
    expect([ran, lookahead.size]).toEqual([1, 0]);
  });

  it("drops the retries of revoked partitions and keeps the others; clear drops all", () => {
    const clock = manualClock(0);
    const lookahead = new RetryLookahead(clock, 10);
    const ran: string[] = [];
    lookahead.schedule("a", 0, "1", 100, () => ran.push("a0"));
    lookahead.schedule("a", 1, "1", 100, () => ran.push("a1"));
    lookahead.schedule("b", 0, "1", 100, () => ran.push("b0"));
    lookahead.retainOnly(new Set(["1:a", "0:b"]));
    expect(lookahead.size).toBe(2);
    clock.advance(100);
    expect(ran.sort()).toEqual(["a1", "b0"]);
    lookahead.schedule("a", 1, "2", 100, () => ran.push("late"));
    lookahead.clear();
    clock.advance(1_000);
    expect([ran.includes("late"), lookahead.size]).toEqual([false, 0]);
  });
});
