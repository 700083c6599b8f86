import { createHash } from "node:crypto";
import { ValidationError } from "./errors.js";

/**
 * The id of the `webhook.endpoint_auto_paused` event of one pause episode. An episode is one
 * failure streak, named by the endpoint and the instant of its first failure: a projector that
 * is killed and re-reads the outcomes reaches the same streak and the same id, which receivers
 * dedupe, and a resumed endpoint that fails again starts a new streak and gets a new id.
 */
export function autoPauseEventId(endpointId: string, failingSince: number): string {
  if (typeof endpointId !== "string" || endpointId === "") throw new ValidationError("endpointId", "must be a non-empty string");
  if (!Number.isSafeInteger(failingSince)) throw new ValidationError("failingSince", `must be epoch milliseconds, got ${failingSince}`);
  const digest = createHash("sha256").update(JSON.stringify(["webhook.endpoint_auto_paused", endpointId, failingSince])).digest("hex");
  return `evt_${digest.slice(0, 24)}`;
}

/** What an attempt's outcome means for the endpoint's health (SPEC §4). */
export type AttemptVerdict = "success" | "failure" | "not_counted";

/**
 * Failed attempts (retrying or terminal) count against the endpoint; a success heals it.
 * SKIPPED was never attempted, and the dispatcher's own faults are held by the sender without
 * producing a failed-attempt outcome, so neither counts.
 */
export function attemptVerdict(result: string): AttemptVerdict {
  switch (result) {
    case "SUCCEEDED":
      return "success";
    case "FAILED_RETRYING":
    case "FAILED_TERMINAL":
      return "failure";
    default:
      return "not_counted";
  }
}

/**
 * Whether attempt `a` is later than attempt `b` of the same delivery: by attempt number, then
 * by start time (a re-run of the same attempt after a crash), so an older outcome read late
 * never overwrites a newer delivery state.
 */
export function isLaterAttempt(a: { attempt: number; attemptedAt: number }, b: { attempt: number; attemptedAt: number }): boolean {
  return a.attempt !== b.attempt ? a.attempt > b.attempt : a.attemptedAt > b.attemptedAt;
}
