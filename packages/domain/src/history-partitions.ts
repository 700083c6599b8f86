import { ValidationError } from "./errors.js";

/**
 * Day partitions of the history tables (SPEC §4: 30 days of history). Rows go to the partition
 * of their UTC day; retention drops whole partitions, never rows, so the hot path never deletes.
 * Pure: the caller passes "now" (its Clock) and the days that exist.
 */

export const DAY_MS = 24 * 60 * 60 * 1000;

/** The UTC day of an instant, `YYYY-MM-DD`. */
export function utcDay(epochMs: number): string {
  if (!Number.isFinite(epochMs)) throw new ValidationError("epochMs", `must be a finite number, got ${epochMs}`);
  return new Date(Math.floor(epochMs / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

/** Start of a `YYYY-MM-DD` day, epoch milliseconds. */
export function dayStart(day: string): number {
  const ms = Date.parse(`${day}T00:00:00.000Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(ms)) throw new ValidationError("day", `must be YYYY-MM-DD, got ${JSON.stringify(day)}`);
  return ms;
}

export function addDays(day: string, days: number): string {
  return utcDay(dayStart(day) + days * DAY_MS);
}

/** `attempts_p20261201`: a partition's name, the parent table's and the day's. */
export function partitionName(table: string, day: string): string {
  return `${table}_p${day.replaceAll("-", "")}`;
}

/** The day a partition name holds, or null when the name is not one of `table`'s partitions. */
export function partitionDay(table: string, name: string): string | null {
  const match = new RegExp(`^${table}_p(\\d{4})(\\d{2})(\\d{2})$`).exec(name);
  return match ? `${match[1]}-${match[2]}-${match[3]}` : null;
}

export interface RetentionPolicy {
  /** Days of history kept, today included (default 30). */
  retentionDays: number;
  /** Days after today whose partitions exist ahead of time (default 7). */
  aheadDays: number;
}

export const DEFAULT_RETENTION_POLICY: RetentionPolicy = Object.freeze({ retentionDays: 30, aheadDays: 7 });

/** The oldest day still kept at `now`: rows of earlier days are outside the history. */
export function oldestKeptDay(now: number, policy: RetentionPolicy): string {
  return addDays(utcDay(now), -(policy.retentionDays - 1));
}

/** Whether a row of `day` belongs in the history at `now` (not older than retention). */
export function isWithinRetention(day: string, now: number, policy: RetentionPolicy): boolean {
  return day >= oldestKeptDay(now, policy);
}

export interface PartitionPlan {
  /** Days whose partitions must exist: today and `aheadDays` after it. */
  create: string[];
  /** Existing days older than retention: drop their partitions. */
  drop: string[];
}

/** What partition maintenance does at `now`, given the days that exist. */
export function planPartitions(existingDays: Iterable<string>, now: number, policy: RetentionPolicy): PartitionPlan {
  const existing = new Set(existingDays);
  const today = utcDay(now);
  const create: string[] = [];
  for (let offset = 0; offset <= policy.aheadDays; offset++) {
    const day = addDays(today, offset);
    if (!existing.has(day)) create.push(day);
  }
  const drop = [...existing].filter((day) => !isWithinRetention(day, now, policy)).sort();
  return { create, drop };
}

/**
 * @throws ValidationError naming the field when retention is not at least one day or the
 * look-ahead is negative.
 */
export function validateRetentionPolicy(policy: RetentionPolicy): RetentionPolicy {
  if (!Number.isSafeInteger(policy.retentionDays) || policy.retentionDays < 1) {
    throw new ValidationError("retentionDays", `must be a positive integer, got ${policy.retentionDays}`);
  }
  if (!Number.isSafeInteger(policy.aheadDays) || policy.aheadDays < 0) {
    throw new ValidationError("aheadDays", `must be a non-negative integer, got ${policy.aheadDays}`);
  }
  return policy;
}
