import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors.js";
import {
  applyAttemptOutcome,
  DEFAULT_AUTO_PAUSE_POLICY,
  initialEndpointHealth,
  resumeEndpointHealth,
  sweepEndpointHealth,
  validateAutoPausePolicy,
  type AttemptOutcome,
  type EndpointHealthState,
  type HealthTransition,
} from "./endpoint-health.js";

const H = 60 * 60 * 1000;
const T0 = Date.UTC(2026, 3, 22, 10, 0, 0);
const fail = (at: number): AttemptOutcome => ({ succeeded: false, at });
const ok = (at: number): AttemptOutcome => ({ succeeded: true, at });

function run(outcomes: AttemptOutcome[], policy = DEFAULT_AUTO_PAUSE_POLICY, start = initialEndpointHealth()) {
  let state: EndpointHealthState = start;
  const transitions: HealthTransition[] = [];
  for (const outcome of outcomes) {
    const update = applyAttemptOutcome(state, outcome, policy);
    state = update.state;
    transitions.push(update.transition);
  }
  return { state, transitions };
}

const failures = (n: number, from = T0, step = 1000) => Array.from({ length: n }, (_, i) => fail(from + i * step));

describe("applyAttemptOutcome", () => {
  it("the policy defaults are 20 failures / 72 h", () => {
    expect(DEFAULT_AUTO_PAUSE_POLICY).toEqual({ maxConsecutiveFailures: 20, maxFailingDurationMs: 72 * H });
  });

  it.each<[string, AttemptOutcome[], Partial<EndpointHealthState>, number]>([
    ["one failure", [fail(T0)], { consecutiveFailures: 1, failingSince: T0, status: "ACTIVE" }, -1],
    ["19 failures stay active", failures(19), { consecutiveFailures: 19, status: "ACTIVE" }, -1],
    ["the 20th consecutive failure pauses", failures(20), { consecutiveFailures: 20, failingSince: T0, status: "PAUSED" }, 19],
    ["a success resets the count", [...failures(19), ok(T0 + 19_500), ...failures(19, T0 + 20_000)], { consecutiveFailures: 19, failingSince: T0 + 20_000, lastSuccessAt: T0 + 19_500, status: "ACTIVE" }, -1],
    ["72 h of failing pauses on the next failure", [fail(T0), fail(T0 + 71 * H), fail(T0 + 72 * H)], { consecutiveFailures: 3, status: "PAUSED" }, 2],
    ["just under 72 h does not", [fail(T0), fail(T0 + 72 * H - 1)], { consecutiveFailures: 2, status: "ACTIVE" }, -1],
    ["a success in between restarts the 72 h clock", [fail(T0), ok(T0 + 50 * H), fail(T0 + 51 * H), fail(T0 + 72 * H)], { consecutiveFailures: 2, failingSince: T0 + 51 * H, status: "ACTIVE" }, -1],
    ["paused only once", [...failures(25)], { consecutiveFailures: 25, status: "PAUSED" }, 19],
    ["successes only", [ok(T0), ok(T0 + 1)], { consecutiveFailures: 0, failingSince: null, lastSuccessAt: T0 + 1, status: "ACTIVE" }, -1],
    // ordering by `at`, not arrival
    ["a late-arriving older success does not end a newer streak", [fail(T0 + 10), ok(T0 + 5)], { consecutiveFailures: 1, failingSince: T0 + 10, lastSuccessAt: T0 + 5 }, -1],
    ["a late-arriving failure older than the last success is ignored", [ok(T0 + 10), fail(T0 + 5)], { consecutiveFailures: 0, failingSince: null, lastSuccessAt: T0 + 10 }, -1],
    ["an older failure moves failingSince back", [fail(T0 + 10), fail(T0 + 5)], { consecutiveFailures: 2, failingSince: T0 + 5 }, -1],
    ["lastSuccessAt never goes back", [ok(T0 + 10), ok(T0 + 5)], { lastSuccessAt: T0 + 10 }, -1],
  ])("%s", (_name, outcomes, expected, pausedAt) => {
    const { state, transitions } = run(outcomes);
    expect(state).toMatchObject(expected);
    expect(transitions.indexOf("auto_paused")).toBe(pausedAt);
    expect(transitions.filter((t) => t === "auto_paused").length).toBe(pausedAt < 0 ? 0 : 1);
  });

  it.each(["PAUSED", "DISABLED"] as const)("never auto-pauses an endpoint that is already %s", (status) => {
    const { state, transitions } = run(failures(30), DEFAULT_AUTO_PAUSE_POLICY, initialEndpointHealth(status));
    expect(state.status).toBe(status);
    expect(state.consecutiveFailures).toBe(30);
    expect(transitions.every((t) => t === "none")).toBe(true);
  });

  it("a success while paused does not resume", () => {
    const { state } = run([...failures(20), ok(T0 + 60_000)]);
    expect(state).toMatchObject({ status: "PAUSED", consecutiveFailures: 0, failingSince: null });
  });

  it("takes the policy as input", () => {
    const policy = { maxConsecutiveFailures: 3, maxFailingDurationMs: 10_000 };
    expect(run(failures(3), policy).transitions).toEqual(["none", "none", "auto_paused"]);
    expect(run([fail(T0), fail(T0 + 10_000)], policy).transitions).toEqual(["none", "auto_paused"]);
  });

  it("does not mutate its input", () => {
    const state = Object.freeze(initialEndpointHealth());
    expect(() => applyAttemptOutcome(state, fail(T0), DEFAULT_AUTO_PAUSE_POLICY)).not.toThrow();
    expect(state.consecutiveFailures).toBe(0);
  });
});

describe("resumeEndpointHealth", () => {
  it("resets the counters and grants a full new allowance", () => {
    const paused = run(failures(20)).state;
    const resumed = resumeEndpointHealth(paused);
    expect(resumed).toEqual({ consecutiveFailures: 0, failingSince: null, lastSuccessAt: null, status: "ACTIVE" });
    const after = run(failures(20, T0 + 100 * H), DEFAULT_AUTO_PAUSE_POLICY, resumed);
    expect(after.transitions.indexOf("auto_paused")).toBe(19);
  });
});

describe("validateAutoPausePolicy", () => {
  it.each([
    [{ maxConsecutiveFailures: 0, maxFailingDurationMs: 1 }, "maxConsecutiveFailures"],
    [{ maxConsecutiveFailures: 1.5, maxFailingDurationMs: 1 }, "maxConsecutiveFailures"],
    [{ maxConsecutiveFailures: 20, maxFailingDurationMs: -1 }, "maxFailingDurationMs"],
    [{ maxConsecutiveFailures: 20, maxFailingDurationMs: Number.POSITIVE_INFINITY }, "maxFailingDurationMs"],
  ])("rejects %j naming %s", (policy, field) => {
    expect(() => validateAutoPausePolicy(policy)).toThrowError(ValidationError);
    expect(() => validateAutoPausePolicy(policy)).toThrowError(new RegExp(`^${field}:`));
  });

  it("accepts the default", () => {
    expect(validateAutoPausePolicy(DEFAULT_AUTO_PAUSE_POLICY)).toBe(DEFAULT_AUTO_PAUSE_POLICY);
  });
});

describe("auto-pause reason", () => {
  it("names the count rule when 20 failures pause", () => {
    const updates = failures(20).reduce<ReturnType<typeof applyAttemptOutcome>[]>((list, outcome) => {
      const state = list.at(-1)?.state ?? initialEndpointHealth();
      return [...list, applyAttemptOutcome(state, outcome, DEFAULT_AUTO_PAUSE_POLICY)];
    }, []);
    expect(updates.at(-1)).toMatchObject({ transition: "auto_paused", reason: "CONSECUTIVE_FAILURES" });
    expect(updates.slice(0, -1).every((update) => update.reason === undefined)).toBe(true);
  });

  it("names the duration rule when 72 h of failing pause", () => {
    const first = applyAttemptOutcome(initialEndpointHealth(), fail(T0), DEFAULT_AUTO_PAUSE_POLICY).state;
    expect(applyAttemptOutcome(first, fail(T0 + 72 * H), DEFAULT_AUTO_PAUSE_POLICY)).toMatchObject({ transition: "auto_paused", reason: "FAILING_TOO_LONG" });
  });
});

describe("sweepEndpointHealth", () => {
  const failing = run([fail(T0), fail(T0 + H)]).state;

  it.each<[string, EndpointHealthState, number, HealthTransition]>([
    ["72 h after the first failure with no new attempt pauses", failing, T0 + 72 * H, "auto_paused"],
    ["just under 72 h does not", failing, T0 + 72 * H - 1, "none"],
    ["a healthy endpoint is never swept", run([ok(T0)]).state, T0 + 1000 * H, "none"],
    ["an endpoint already paused is not paused again", { ...failing, status: "PAUSED" }, T0 + 100 * H, "none"],
    ["a disabled endpoint is not paused", { ...failing, status: "DISABLED" }, T0 + 100 * H, "none"],
    ["a success in between restarts the clock", run([fail(T0), ok(T0 + 50 * H), fail(T0 + 51 * H)]).state, T0 + 100 * H, "none"],
  ])("%s", (_name, state, now, transition) => {
    const update = sweepEndpointHealth(state, now, DEFAULT_AUTO_PAUSE_POLICY);
    expect(update.transition).toBe(transition);
    expect(update.state.status).toBe(transition === "auto_paused" ? "PAUSED" : state.status);
    if (transition === "auto_paused") expect(update.reason).toBe("FAILING_TOO_LONG");
  });

  it("takes the duration from the policy", () => {
    const policy = { maxConsecutiveFailures: 20, maxFailingDurationMs: 1000 };
    expect(sweepEndpointHealth(run([fail(T0)]).state, T0 + 1000, policy).transition).toBe("auto_paused");
  });
});
