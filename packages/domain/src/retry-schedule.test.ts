import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors.js";
import {
  DEFAULT_RETRY_SCHEDULE,
  formatRetrySchedule,
  maxAttempts,
  jitterHalfWidthMs,
  MAX_JITTER_MS,
  nextAttemptDelay,
  parseRetrySchedule,
  retryDelayAfter,
  retryLatenessBoundMs,
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
    // The half-width is capped at 0.5 % of the delay whatever the ratio asks (see MAX_JITTER_RATIO).
    [0, 0.1, 9_950],
    [0.25, 0.1, 9_975],
    [0.5, 0.1, 10_000],
    [0.75, 0.1, 10_025],
    [0.999999, 0.1, 10_050],
    [0, 0.002, 9_980],
    [0, 0, 10_000],
    [0.9, 0, 10_000],
  ])("random %d, jitter %d on 10s → %i", (r, ratio, expected) => {
    expect(nextAttemptDelay([10 * S], 1, () => r, ratio)).toBe(expected);
  });

  it("defaults to ±0.5 % jitter and is deterministic given random", () => {
    expect(nextAttemptDelay([1000], 1, () => 0)).toBe(995);
    const seq = [0.1, 0.9];
    const a = seq.map((r) => nextAttemptDelay(DEFAULT_RETRY_SCHEDULE, 4, () => r));
    const b = seq.map((r) => nextAttemptDelay(DEFAULT_RETRY_SCHEDULE, 4, () => r));
    expect(a).toEqual(b);
    for (const delay of a) {
      expect(delay).toBeGreaterThanOrEqual(0.995 * 2 * H);
      expect(delay).toBeLessThanOrEqual(1.005 * 2 * H);
    }
  });

  it.each([
    [5 * S, 25],
    [2 * H, 30 * S],
    [20 * H, MAX_JITTER_MS],
  ])("jitter half-width on %i ms is %i ms (0.5 %%, at most 30 s)", (base, expected) => {
    expect(jitterHalfWidthMs(base, 1)).toBe(expected);
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

/** A seeded generator (mulberry32), so the simulation below is the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("retry lateness on a tier partition held until its head is due (injected clock)", () => {
  /**
   * One retry partition of one delay: records are written in time order, each due at its write
   * time plus a jittered delay; the sender takes the head once it is due and holds the partition
   * otherwise (what it does with a not-yet-due retry). Returns the largest lateness seen.
   */
  function worstLateness(delayMs: number, jitterRatio: number, writes: number, random: () => number): number {
    let writtenAt = 0;
    let takenAt = 0;
    let worst = 0;
    for (let index = 0; index < writes; index++) {
      // Bursts and lulls: up to a fifth of the delay between consecutive writes.
      writtenAt += Math.floor(random() * random() * delayMs * 0.2);
      const dueAt = writtenAt + nextAttemptDelay([delayMs], 1, random, jitterRatio)!;
      takenAt = Math.max(takenAt, dueAt);
      worst = Math.max(worst, takenAt - dueAt);
    }
    return worst;
  }

  it.each(DEFAULT_RETRY_SCHEDULE.map((delay) => [delay]))("a %i ms tier: no retry later than 1 %% of its delay, at most 60 s", (delayMs) => {
    const worst = worstLateness(delayMs, 0.1, 20_000, seeded(delayMs));
    expect(worst).toBeLessThanOrEqual(retryLatenessBoundMs(delayMs));
    // The bound is met with the jitter still doing its job (spreading due times).
    expect(worst).toBeGreaterThan(0);
  });

  it("the bound is 1 % of the delay, capped at 60 s", () => {
    expect(retryLatenessBoundMs(5 * S)).toBe(50);
    expect(retryLatenessBoundMs(20 * H)).toBe(60 * S);
  });
});

describe("retry tiers", () => {
  it("retryDelayAfter is the base delay of the next wait, null when none is left", () => {
    expect(retryDelayAfter(DEFAULT_RETRY_SCHEDULE, 1)).toBe(5 * S);
    expect(retryDelayAfter(DEFAULT_RETRY_SCHEDULE, 9)).toBe(20 * H);
    expect(retryDelayAfter(DEFAULT_RETRY_SCHEDULE, 10)).toBeNull();
  });

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
