import { describe, expect, it } from "vitest";
import { attemptVerdict, autoPauseEventId, isLaterAttempt } from "./auto-pause-event.js";

describe("autoPauseEventId", () => {
  it("is the same for the same streak and differs per streak and endpoint", () => {
    const id = autoPauseEventId("ep_1", 1_767_000_000_000);
    expect(id).toMatch(/^evt_[0-9a-f]{24}$/);
    expect(autoPauseEventId("ep_1", 1_767_000_000_000)).toBe(id);
    expect(autoPauseEventId("ep_1", 1_767_000_000_001)).not.toBe(id);
    expect(autoPauseEventId("ep_2", 1_767_000_000_000)).not.toBe(id);
  });

  it("rejects a missing endpoint or a bad instant", () => {
    expect(() => autoPauseEventId("", 1)).toThrowError(/^endpointId:/);
    expect(() => autoPauseEventId("ep", Number.NaN)).toThrowError(/^failingSince:/);
  });
});

describe("attemptVerdict", () => {
  it.each([
    ["SUCCEEDED", "success"],
    ["FAILED_RETRYING", "failure"],
    ["FAILED_TERMINAL", "failure"],
    ["SKIPPED", "not_counted"],
  ])("%s is %s", (result, verdict) => {
    expect(attemptVerdict(result)).toBe(verdict);
  });
});

describe("isLaterAttempt", () => {
  it.each([
    [{ attempt: 2, attemptedAt: 1 }, { attempt: 1, attemptedAt: 5 }, true],
    [{ attempt: 1, attemptedAt: 5 }, { attempt: 2, attemptedAt: 1 }, false],
    [{ attempt: 3, attemptedAt: 9 }, { attempt: 3, attemptedAt: 8 }, true],
    [{ attempt: 3, attemptedAt: 8 }, { attempt: 3, attemptedAt: 8 }, false],
  ])("%j after %j: %s", (a, b, later) => {
    expect(isLaterAttempt(a, b)).toBe(later);
  });
});
