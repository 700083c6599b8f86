import { ValidationError } from "./errors.js";

/**
 * Delays between consecutive attempts, in milliseconds: `delaysMs[i]` is the wait after
 * attempt `i + 1` fails before attempt `i + 2`. A schedule of n delays allows n + 1 attempts.
 * Each delivery carries the schedule it started on (see `formatRetrySchedule`), so a redeploy
 * with another schedule does not change deliveries in flight.
 */
export type RetrySchedule = readonly number[];

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * SPEC §4: 10 attempts over about 72 hours; the tenth attempt starts 71 h 35 min 5 s after the
 * first (plus jitter and attempt durations).
 */
export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = Object.freeze([
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  14 * HOUR,
  20 * HOUR,
  20 * HOUR,
]);

/** Default jitter: each delay is drawn uniformly from ±0.5 % of its base value (see `MAX_JITTER_RATIO`). */
export const DEFAULT_JITTER_RATIO = 0.005;

/**
 * Jitter is bounded so that retries stay in due order closely enough: a retry tier partition is
 * read in write order, so its records are in due order to within twice the jitter half-width.
 * The sender reads that far ahead and times those retries in memory (the sender's
 * `RetryLookahead`); were it to hold the partition at its head instead, a record would wait for
 * the spread of due times written before it, which the bound keeps within
 * `retryLatenessBoundMs` (half-width at most 0.5 % of the delay and at most 30 s).
 */
export const MAX_JITTER_RATIO = 0.005;
/** Upper bound of the jitter half-width, in milliseconds. */
export const MAX_JITTER_MS = 30_000;

/** Half-width of the jitter drawn around a base delay, in milliseconds (see `MAX_JITTER_RATIO`). */
export function jitterHalfWidthMs(baseMs: number, jitterRatio: number = DEFAULT_JITTER_RATIO): number {
  return Math.min(baseMs * jitterRatio, baseMs * MAX_JITTER_RATIO, MAX_JITTER_MS);
}

/**
 * How late a retry may run after its due time, in milliseconds: 1 % of its delay and never more
 * than 60 s (issue 6, item 8).
 */
export function retryLatenessBoundMs(delayMs: number): number {
  return Math.min(delayMs * 0.01, 60_000);
}

const UNIT_MS = { ms: 1, s: SECOND, m: MINUTE, h: HOUR } as const;
const DELAY = /^(\d+)(ms|s|m|h)$/;

/**
 * Parses a schedule written as comma-separated delays with a unit each: `"5s,5m,30m,2h"`.
 * Units: `ms`, `s`, `m`, `h`; whole numbers only; every delay must be greater than zero.
 * @param field the config name used in errors; delays are reported as `<field>[i]`.
 * @throws ValidationError naming the bad delay.
 */
export function parseRetrySchedule(text: string, field = "retrySchedule"): RetrySchedule {
  if (text.trim() === "") throw new ValidationError(field, 'must list at least one delay, e.g. "5s,5m,30m,2h"');
  return Object.freeze(
    text.split(",").map((part, i) => {
      const match = DELAY.exec(part.trim());
      if (match === null) {
        throw new ValidationError(`${field}[${i}]`, `${JSON.stringify(part.trim())} is not a delay like 500ms, 5s, 5m or 2h`);
      }
      const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
      if (!Number.isSafeInteger(ms) || ms <= 0) {
        throw new ValidationError(`${field}[${i}]`, `${JSON.stringify(part.trim())} must be greater than zero and finite`);
      }
      return ms;
    }),
  );
}

/** One delay in the schedule's notation, with the largest unit that divides it: `5m`, `150ms`. */
export function formatDelay(ms: number): string {
  if (ms % HOUR === 0) return `${ms / HOUR}h`;
  if (ms % MINUTE === 0) return `${ms / MINUTE}m`;
  if (ms % SECOND === 0) return `${ms / SECOND}s`;
  return `${ms}ms`;
}

/** The inverse of `parseRetrySchedule`, using the largest unit that divides each delay. */
export function formatRetrySchedule(schedule: RetrySchedule): string {
  return schedule.map(formatDelay).join(",");
}

/** Total attempts a schedule allows, the first included: delays + 1. */
export function maxAttempts(schedule: RetrySchedule): number {
  return schedule.length + 1;
}

function checkAttempt(attempt: number): void {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt numbers are 1-based integers, got ${attempt}`);
}

/**
 * How long to wait after attempt `attemptJustFailed` (1-based) failed, in milliseconds, or null
 * when that was the last attempt (the delivery is then terminally failed).
 *
 * Jitter spreads retries of a burst of failures: the result is uniform in
 * `base ± jitterHalfWidthMs(base, jitterRatio)` (at most ±0.5 % and ±30 s), rounded to a whole
 * millisecond, and is fully determined by `random()` (a value in [0, 1), e.g. `Math.random` or a
 * seeded generator).
 */
export function nextAttemptDelay(
  schedule: RetrySchedule,
  attemptJustFailed: number,
  random: () => number,
  jitterRatio: number = DEFAULT_JITTER_RATIO,
): number | null {
  checkAttempt(attemptJustFailed);
  if (!(jitterRatio >= 0 && jitterRatio <= 1)) throw new RangeError(`jitterRatio must be within [0, 1], got ${jitterRatio}`);
  const base = schedule[attemptJustFailed - 1];
  if (base === undefined) return null;
  const r = random();
  if (!(r >= 0 && r < 1)) throw new RangeError(`random() must return a value in [0, 1), got ${r}`);
  return Math.max(0, Math.round(base + jitterHalfWidthMs(base, jitterRatio) * (2 * r - 1)));
}

/**
 * The base delay a delivery waits after attempt `attemptJustFailed` (1-based) failed, in
 * milliseconds; null when no attempt is left. Its retry topic is named after it
 * (`retryTopicForDelay`), so deliveries of different delays never share a tier.
 */
export function retryDelayAfter(schedule: RetrySchedule, attemptJustFailed: number): number | null {
  checkAttempt(attemptJustFailed);
  return schedule[attemptJustFailed - 1] ?? null;
}

/**
 * The backoff tiers of a schedule: its distinct delays in order of first appearance, in
 * milliseconds. Tier `i` holds deliveries that are waiting `retryTiers(schedule)[i]` before their
 * next attempt, and has its own retry topic (see `retryTopic`). The default schedule has 8 tiers
 * (20 h appears twice and shares a tier).
 */
export function retryTiers(schedule: RetrySchedule): number[] {
  return [...new Set(schedule)];
}

/**
 * The tier a delivery goes to after attempt `attemptJustFailed` (1-based) failed, i.e. the index
 * in `retryTiers(schedule)` of the delay it now waits; null when no attempt is left. Uses the
 * base delay, so jitter never moves a delivery to another tier.
 */
export function retryTierFor(schedule: RetrySchedule, attemptJustFailed: number): number | null {
  checkAttempt(attemptJustFailed);
  const base = schedule[attemptJustFailed - 1];
  if (base === undefined) return null;
  return retryTiers(schedule).indexOf(base);
}
