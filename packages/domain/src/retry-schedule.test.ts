import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors.js";
import {
  DEFAULT_RETRY_SCHEDULE,
  formatRetrySchedule,
  maxAttempts,
  nextAttemptDelay,
  parseRetrySchedule,
  retryTierFor,
  retryTiers,
} from "./retry-schedule.js";

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const middle = () => 0.5; // 2r - 1 = 0: no jitter

describe("DEFAULT_RETRY_SCHEDULE", () => {
  it("is 10 attempts, the tenth 71h35m05s after the first", () => {
    expect(maxAttempts(DEFAULT_RETRY_SCHEDULE)).toBe(10);
    expect(DEFAULT_RETRY_SCHEDULE.reduce((a, b) => a + b, 0)).toBe(71 * H + 35 * M + 5 * S);
    expect(formatRetrySchedule(DEFAULT_RETRY_SCHEDULE)).toBe("5s,5m,30m,2h,5h,10h,14h,20h,20h");
  });
});

describe("parseRetrySchedule", () => {
  it.each([
    ["5s,5m,30m,2h", [5 * S, 5 * M, 30 * M, 2 * H]],
    [" 100ms , 1s ", [100, S]],
    ["5s,5m,30m,2h,5h,10h,14h,20h,20h", [...DEFAULT_RETRY_SCHEDULE]],
    ["1h", [H]],
  ])("%j", (text, expected) => {
    expect(parseRetrySchedule(text)).toEqual(expected);
  });

  it.each([
    ["", "RETRY", /at least one delay/],
    ["   ", "RETRY", /at least one delay/],
    ["5s,,5m", "RETRY[1]", /not a delay/],
    ["5", "RETRY[0]", /not a delay/],
    ["5s,5d", "RETRY[1]", /not a delay/],
    ["1.5h", "RETRY[0]", /not a delay/],
    ["-5s", "RETRY[0]", /not a delay/],
    ["0s", "RETRY[0]", /greater than zero/],
    ["5 s", "RETRY[0]", /not a delay/],
    ["99999999999999999999h", "RETRY[0]", /greater than zero and finite/],
  ])("rejects %j at %s", (text, field, message) => {
    let caught: unknown;
    try {
      parseRetrySchedule(text, "RETRY");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).field).toBe(field);
    expect((caught as ValidationError).message).toMatch(message);
  });

  it("round-trips through formatRetrySchedule", () => {
    for (const text of ["250ms,1500ms,90s,90m,36h", "5s,5m,30m,2h"]) {
      expect(formatRetrySchedule(parseRetrySchedule(text))).toBe(text);
    }
  });
});

describe("nextAttemptDelay", () => {
  it.each([
    [1, 5 * S],
    [2, 5 * M],
    [3, 30 * M],
    [4, 2 * H],
    [5, 5 * H],
    [6, 10 * H],
    [7, 14 * H],
    [8, 20 * H],
    [9, 20 * H],
    [10, null],
    [11, null],
  ])("after attempt %i fails: %s ms (no jitter)", (attempt, expected) => {
    expect(nextAttemptDelay(DEFAULT_RETRY_SCHEDULE, attempt, middle)).toBe(expected);
  });

  it.each([
    [0, 0.1, 9_000],
    [0.25, 0.1, 9_500],
    [0.5, 0.1, 10_000],
    [0.75, 0.1, 10_500],
    [0.999999, 0.1, 11_000],
    [0, 0.5, 5_000],
    [0, 0, 10_000],
    [0.9, 0, 10_000],
    [0, 1, 0],
  ])("random %d, jitter %d on 10s → %i", (r, ratio, expected) => {
    expect(nextAttemptDelay([10 * S], 1, () => r, ratio)).toBe(expected);
  });

  it("defaults to ±10 % jitter and is deterministic given random", () => {
    expect(nextAttemptDelay([1000], 1, () => 0)).toBe(900);
    const seq = [0.1, 0.9];
    const a = seq.map((r) => nextAttemptDelay(DEFAULT_RETRY_SCHEDULE, 4, () => r));
    const b = seq.map((r) => nextAttemptDelay(DEFAULT_RETRY_SCHEDULE, 4, () => r));
    expect(a).toEqual(b);
    for (const delay of a) {
      expect(delay).toBeGreaterThanOrEqual(0.9 * 2 * H);
      expect(delay).toBeLessThanOrEqual(1.1 * 2 * H);
    }
  });

  it.each([
    ["attempt 0", () => nextAttemptDelay([1000], 0, middle)],
    ["attempt 1.5", () => nextAttemptDelay([1000], 1.5, middle)],
    ["negative jitter", () => nextAttemptDelay([1000], 1, middle, -0.1)],
    ["jitter above 1", () => nextAttemptDelay([1000], 1, middle, 1.5)],
    ["random() = 1", () => nextAttemptDelay([1000], 1, () => 1)],
    ["random() NaN", () => nextAttemptDelay([1000], 1, () => Number.NaN)],
  ])("throws RangeError on %s", (_name, call) => {
    expect(call).toThrowError(RangeError);
  });

  it("does not call random once attempts are exhausted", () => {
    expect(nextAttemptDelay([1000], 2, () => { throw new Error("called"); })).toBeNull();
  });
});

describe("retry tiers", () => {
  it("has one tier per distinct delay; the default schedule has 8", () => {
    expect(retryTiers(DEFAULT_RETRY_SCHEDULE)).toEqual([5 * S, 5 * M, 30 * M, 2 * H, 5 * H, 10 * H, 14 * H, 20 * H]);
  });

  it.each([
    [1, 0],
    [2, 1],
    [3, 2],
    [4, 3],
    [5, 4],
    [6, 5],
    [7, 6],
    [8, 7],
    [9, 7], // second 20 h wait shares the 20 h tier
    [10, null],
  ])("after attempt %i fails → tier %s", (attempt, tier) => {
    expect(retryTierFor(DEFAULT_RETRY_SCHEDULE, attempt)).toBe(tier);
  });

  it("uses first appearance order for non-monotonic schedules", () => {
    const schedule = parseRetrySchedule("1s,2s,1s,3s");
    expect(retryTiers(schedule)).toEqual([S, 2 * S, 3 * S]);
    expect([1, 2, 3, 4, 5].map((a) => retryTierFor(schedule, a))).toEqual([0, 1, 0, 2, null]);
  });

  it("maxAttempts = delays + 1", () => {
    expect(maxAttempts([])).toBe(1);
    expect(maxAttempts(parseRetrySchedule("1s,2s"))).toBe(3);
  });
});
