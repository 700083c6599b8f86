import { ValidationError } from "./errors.js";
import type { EndpointStatus } from "./subscription-match.js";

/**
 * Auto-pause (SPEC §4): an endpoint is paused after N consecutive failed attempts or after a
 * failure arrives when it has been failing continuously (no success since its first failure)
 * for at least D. Only attempts are inputs: back-pressure (paused, rate-limited, concurrency
 * full) never spent an attempt, so it neither fails nor heals an endpoint.
 */
export interface AutoPausePolicy {
  /** Failed attempts in a row that pause the endpoint (default 20). */
  maxConsecutiveFailures: number;
  /** Continuous failure that pauses the endpoint, in milliseconds (default 72 h). */
  maxFailingDurationMs: number;
}

export const DEFAULT_AUTO_PAUSE_POLICY: AutoPausePolicy = Object.freeze({
  maxConsecutiveFailures: 20,
  maxFailingDurationMs: 72 * 60 * 60 * 1000,
});

export interface EndpointHealthState {
  /** Failed attempts since the last success (or resume). */
  consecutiveFailures: number;
  /** Time of the first failure of the current streak, epoch milliseconds; null when healthy. */
  failingSince: number | null;
  /** Time of the latest successful attempt, epoch milliseconds; null if none yet. */
  lastSuccessAt: number | null;
  status: EndpointStatus;
}

export interface AttemptOutcome {
  succeeded: boolean;
  /** When the attempt finished, epoch milliseconds. */
  at: number;
}

export type HealthTransition = "none" | "auto_paused";

/** Which rule paused an endpoint (the `reason` of `webhook.endpoint_auto_paused`). */
export type AutoPauseReason = "CONSECUTIVE_FAILURES" | "FAILING_TOO_LONG";

export interface HealthUpdate {
  state: EndpointHealthState;
  /** `auto_paused` exactly once per pause: the caller emits `webhook.endpoint_auto_paused`. */
  transition: HealthTransition;
  /** Set with `auto_paused`: the rule that fired (the count wins when both do). */
  reason?: AutoPauseReason;
}

function exhaustedBy(state: EndpointHealthState, now: number, policy: AutoPausePolicy): AutoPauseReason | null {
  if (state.consecutiveFailures >= policy.maxConsecutiveFailures) return "CONSECUTIVE_FAILURES";
  if (state.failingSince !== null && now - state.failingSince >= policy.maxFailingDurationMs) return "FAILING_TOO_LONG";
  return null;
}

export function initialEndpointHealth(status: EndpointStatus = "ACTIVE"): EndpointHealthState {
  return { consecutiveFailures: 0, failingSince: null, lastSuccessAt: null, status };
}

/**
 * @throws ValidationError naming the field when the policy is not two positive integers.
 */
export function validateAutoPausePolicy(policy: AutoPausePolicy): AutoPausePolicy {
  for (const field of ["maxConsecutiveFailures", "maxFailingDurationMs"] as const) {
    const value = policy[field];
    if (!Number.isSafeInteger(value) || value < 1) throw new ValidationError(field, `must be a positive integer, got ${value}`);
  }
  return policy;
}

/**
 * Folds one attempt outcome into the endpoint's health.
 *
 * Outcomes may arrive slightly out of order (attempts run concurrently and their outcome events
 * cross partitions), so ordering is by `at`, not arrival: a success older than the current
 * failing streak does not end it, and a failure older than the latest success does not start a
 * new one. Outcomes of attempts still in flight when the endpoint was paused or disabled update
 * the counters but never pause it a second time.
 */
export function applyAttemptOutcome(state: EndpointHealthState, outcome: AttemptOutcome, policy: AutoPausePolicy): HealthUpdate {
  const { at } = outcome;
  if (outcome.succeeded) {
    const lastSuccessAt = state.lastSuccessAt === null ? at : Math.max(state.lastSuccessAt, at);
    if (state.failingSince !== null && at < state.failingSince) {
      return { state: { ...state, lastSuccessAt }, transition: "none" };
    }
    return { state: { ...state, consecutiveFailures: 0, failingSince: null, lastSuccessAt }, transition: "none" };
  }
  if (state.lastSuccessAt !== null && at < state.lastSuccessAt) return { state, transition: "none" };
  const failingSince = state.failingSince === null ? at : Math.min(state.failingSince, at);
  const next: EndpointHealthState = { ...state, consecutiveFailures: state.consecutiveFailures + 1, failingSince };
  const reason = exhaustedBy(next, at, policy);
  if (state.status === "ACTIVE" && reason !== null) {
    return { state: { ...next, status: "PAUSED" }, transition: "auto_paused", reason };
  }
  return { state: next, transition: "none" };
}

/**
 * The periodic sweep: applies the duration rule at `now` to an endpoint that has had no new
 * attempt (its deliveries wait in long retry tiers, so no failure arrives to trigger it). Only
 * the duration rule can fire here; the count only changes with attempts.
 */
export function sweepEndpointHealth(state: EndpointHealthState, now: number, policy: AutoPausePolicy): HealthUpdate {
  if (state.status !== "ACTIVE" || state.failingSince === null) return { state, transition: "none" };
  if (now - state.failingSince < policy.maxFailingDurationMs) return { state, transition: "none" };
  return { state: { ...state, status: "PAUSED" }, transition: "auto_paused", reason: "FAILING_TOO_LONG" };
}

/**
 * Manual resume: ACTIVE again with a clean slate, so a still-broken endpoint gets a full new
 * allowance (N failures or D of failing) before it is auto-paused again. Whether a DISABLED
 * endpoint may be resumed is the admin service's decision, not this function's.
 */
export function resumeEndpointHealth(state: EndpointHealthState): EndpointHealthState {
  return { ...state, status: "ACTIVE", consecutiveFailures: 0, failingSince: null };
}
