import type { Knex } from "knex";
import {
  applyAttemptOutcome,
  attemptVerdict,
  autoPauseEventId,
  isLaterAttempt,
  isWithinRetention,
  utcDay,
  type AutoPausePolicy,
  type EndpointHealthState,
  type EndpointStatus,
  type RetentionPolicy,
} from "@novatrade/domain";
import type { Complete, DeliveryOutcomeRecord } from "@novatrade/event-codec";

export type Outcome = Complete<DeliveryOutcomeRecord>;

/** An outcome with where it was read: the position makes re-reading it a no-op for health. */
export interface PositionedOutcome {
  outcome: Outcome;
  partition: number;
  /** Kafka offset. */
  offset: number;
}

export interface OutcomeProjectionOptions {
  autoPause: AutoPausePolicy;
  retention: RetentionPolicy;
  /** Makes sure the day partitions exist (outside the transaction: DDL locks the parent). */
  ensureDays(days: Iterable<string>): Promise<void>;
}

export interface OutcomeBatchResult {
  projected: number;
  /** Outcomes of deliveries whose day is older than retention: not kept. */
  expired: number;
  /** Endpoints this batch auto-paused (their pause is pending in endpoint_health). */
  autoPaused: { endpointId: string; reason: string }[];
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * Each delivery's row day: the day of the first outcome of it the projection saw (kept for its
 * later attempts, so a delivery and its attempts stay in one partition), else the day of its
 * earliest attempt in this batch.
 */
async function deliveryDays(trx: Knex.Transaction, outcomes: Outcome[]): Promise<Map<string, string>> {
  const ids = [...new Set(outcomes.map((o) => o.deliveryId))];
  const existing = (await trx("deliveries").select("delivery_id").min({ day: "day" }).whereIn("delivery_id", ids).groupBy("delivery_id")) as { delivery_id: string; day: string }[];
  const known = new Map(existing.map((row) => [row.delivery_id, row.day]));
  const days = new Map(known);
  for (const outcome of outcomes) {
    if (known.has(outcome.deliveryId)) continue;
    const day = utcDay(outcome.attemptedAt);
    const seen = days.get(outcome.deliveryId);
    if (seen === undefined || day < seen) days.set(outcome.deliveryId, day);
  }
  return days;
}

/**
 * Projects a batch of delivery outcomes in one transaction: attempts (one row per delivery and
 * attempt), deliveries (current state: a late older attempt never overwrites a newer one), and
 * endpoint health with auto-pause. Idempotent: every write is an upsert keyed by delivery and
 * attempt, and health skips outcomes at or before the position it last folded in.
 */
export async function projectOutcomes(
  db: Knex,
  batch: PositionedOutcome[],
  options: OutcomeProjectionOptions,
  now: number,
): Promise<OutcomeBatchResult> {
  const result: OutcomeBatchResult = { projected: 0, expired: 0, autoPaused: [] };
  if (batch.length === 0) return result;
  const outcomes = batch.map((item) => item.outcome);
  // Partitions first, outside the transaction; a day whose partition retention dropped is skipped.
  const candidateDays = new Set(outcomes.map((o) => utcDay(o.attemptedAt)).filter((day) => isWithinRetention(day, now, options.retention)));
  await options.ensureDays(candidateDays);

  await db.transaction(async (trx) => {
    const days = await deliveryDays(trx, outcomes);
    const kept = outcomes.filter((o) => isWithinRetention(days.get(o.deliveryId)!, now, options.retention));
    result.expired = outcomes.length - kept.length;
    result.projected = kept.length;
    await upsertAttempts(trx, kept, days);
    await upsertDeliveries(trx, kept, days);
    result.autoPaused = await foldHealth(trx, batch, options.autoPause);
  });
  return result;
}

async function upsertAttempts(trx: Knex.Transaction, outcomes: Outcome[], days: Map<string, string>): Promise<void> {
  // One row per (delivery, attempt): within the batch keep the latest run of each attempt, as
  // one INSERT cannot touch the same row twice.
  const latest = new Map<string, Outcome>();
  for (const o of outcomes) {
    if (o.attempt < 1) continue; // SKIPPED: nothing was attempted.
    const key = `${o.deliveryId}\u0000${o.attempt}`;
    const seen = latest.get(key);
    if (!seen || o.attemptedAt > seen.attemptedAt) latest.set(key, o);
  }
  const rows = [...latest.values()];
  if (rows.length === 0) return;
  await trx.raw(
    `INSERT INTO attempts (day, delivery_id, attempt, endpoint_id, result, status_code, error_class, error_message, latency_ms, response_body, attempted_at, next_attempt_at)
     SELECT * FROM jsonb_to_recordset(?::jsonb) AS r(day date, delivery_id text, attempt int, endpoint_id text, result text, status_code int, error_class text,
       error_message text, latency_ms bigint, response_body text, attempted_at timestamptz, next_attempt_at timestamptz)
     ON CONFLICT (day, delivery_id, attempt) DO UPDATE SET
       result = excluded.result, status_code = excluded.status_code, error_class = excluded.error_class,
       error_message = excluded.error_message, latency_ms = excluded.latency_ms, response_body = excluded.response_body,
       attempted_at = excluded.attempted_at, next_attempt_at = excluded.next_attempt_at
     WHERE attempts.attempted_at < excluded.attempted_at`,
    [
      JSON.stringify(
        rows.map((o) => ({
          day: days.get(o.deliveryId)!,
          delivery_id: o.deliveryId,
          attempt: o.attempt,
          endpoint_id: o.endpointId,
          result: o.result,
          status_code: o.statusCode,
          error_class: o.errorClass,
          error_message: o.errorMessage,
          latency_ms: o.latencyMs,
          response_body: o.responseBody,
          attempted_at: iso(o.attemptedAt),
          next_attempt_at: iso(o.nextAttemptAt),
        })),
      ),
    ],
  );
}

interface DeliveryState {
  latest: Outcome;
  firstAttemptedAt: number;
}

async function upsertDeliveries(trx: Knex.Transaction, outcomes: Outcome[], days: Map<string, string>): Promise<void> {
  const states = new Map<string, DeliveryState>();
  for (const o of outcomes) {
    const state = states.get(o.deliveryId);
    if (!state) states.set(o.deliveryId, { latest: o, firstAttemptedAt: o.attemptedAt });
    else {
      if (isLaterAttempt(o, state.latest)) state.latest = o;
      state.firstAttemptedAt = Math.min(state.firstAttemptedAt, o.attemptedAt);
    }
  }
  const rows = [...states.values()];
  if (rows.length === 0) return;
  const newer = `(excluded.attempts, excluded.last_attempted_at) > (deliveries.attempts, deliveries.last_attempted_at)`;
  const pick = (column: string) => `${column} = CASE WHEN ${newer} THEN excluded.${column} ELSE deliveries.${column} END`;
  await trx.raw(
    `INSERT INTO deliveries (day, delivery_id, event_id, event_type, endpoint_id, organization_uuid, replay_id, status, attempts, first_attempted_at, last_attempted_at, next_attempt_at, last_status_code, last_error_class)
     SELECT * FROM jsonb_to_recordset(?::jsonb) AS r(day date, delivery_id text, event_id text, event_type text, endpoint_id text, organization_uuid text, replay_id text,
       status text, attempts int, first_attempted_at timestamptz, last_attempted_at timestamptz, next_attempt_at timestamptz, last_status_code int, last_error_class text)
     ON CONFLICT (day, delivery_id) DO UPDATE SET
       first_attempted_at = LEAST(deliveries.first_attempted_at, excluded.first_attempted_at),
       ${["status", "next_attempt_at", "last_status_code", "last_error_class", "replay_id"].map(pick).join(", ")},
       attempts = GREATEST(deliveries.attempts, excluded.attempts),
       last_attempted_at = CASE WHEN ${newer} THEN excluded.last_attempted_at ELSE deliveries.last_attempted_at END
     WHERE ${newer} OR excluded.first_attempted_at < deliveries.first_attempted_at`,
    [
      JSON.stringify(
        rows.map(({ latest, firstAttemptedAt }) => ({
          day: days.get(latest.deliveryId)!,
          delivery_id: latest.deliveryId,
          event_id: latest.eventId,
          event_type: latest.eventType,
          endpoint_id: latest.endpointId,
          organization_uuid: latest.organizationUuid.toLowerCase(),
          replay_id: latest.replayId,
          status: latest.result,
          attempts: latest.attempt,
          first_attempted_at: iso(firstAttemptedAt),
          last_attempted_at: iso(latest.attemptedAt),
          next_attempt_at: iso(latest.nextAttemptAt),
          last_status_code: latest.statusCode,
          last_error_class: latest.errorClass,
        })),
      ),
    ],
  );
}

/** A row of endpoint_health as the fold needs it. */
interface HealthRow {
  endpoint_id: string;
  organization_uuid: string | null;
  status: string;
  consecutive_failures: number;
  failing_since: Date | null;
  last_success_at: Date | null;
  last_failure_at: Date | null;
  last_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  outcome_partition: number | null;
  outcome_offset: number | null;
  config_status: string | null;
  config_updated_at: Date | null;
  pause_state: string | null;
  pause_event_id: string | null;
  pause_reason: string | null;
  pause_trigger_at: Date | null;
  paused_consecutive_failures: number | null;
  paused_failing_since: Date | null;
  episodes: number;
}

const ms = (date: Date | null) => (date === null ? null : date.getTime());
const toDate = (value: number | null) => (value === null ? null : new Date(value));

/**
 * Folds counted attempts into each endpoint's health, in the order they were written (one
 * endpoint's outcomes share a partition). `status` is the health's own state (ACTIVE, or PAUSED
 * by this fold until a resume is read), so the same outcomes give the same episodes whatever
 * the interleaving with the configuration topic; the configuration's status is kept beside it. An outcome at or before the stored position was
 * folded in already (a re-read after a crash) and is skipped, so re-reading never double-counts.
 */
async function foldHealth(trx: Knex.Transaction, batch: PositionedOutcome[], policy: AutoPausePolicy): Promise<OutcomeBatchResult["autoPaused"]> {
  const counted = batch.filter((item) => attemptVerdict(item.outcome.result) !== "not_counted");
  if (counted.length === 0) return [];
  const endpointIds = [...new Set(counted.map((item) => item.outcome.endpointId))].sort();
  // Row locks in a fixed order: two instances folding the same endpoints never deadlock.
  const existing = (await trx("endpoint_health").whereIn("endpoint_id", endpointIds).orderBy("endpoint_id").forUpdate()) as HealthRow[];
  const rows = new Map(existing.map((row) => [row.endpoint_id, row]));
  const paused: OutcomeBatchResult["autoPaused"] = [];
  for (const { outcome, partition, offset } of counted) {
    const id = outcome.endpointId;
    let row = rows.get(id);
    if (!row) {
      row = {
        endpoint_id: id, organization_uuid: outcome.organizationUuid, status: "ACTIVE", config_status: null, config_updated_at: null,
        consecutive_failures: 0, failing_since: null, last_success_at: null, last_failure_at: null, last_attempt_at: null,
        last_status_code: null, last_error: null, outcome_partition: null, outcome_offset: null, pause_state: null,
        pause_event_id: null, pause_reason: null, pause_trigger_at: null, paused_consecutive_failures: null,
        paused_failing_since: null, episodes: 0,
      };
      rows.set(id, row);
    }
    if (row.outcome_partition === partition && row.outcome_offset !== null && offset <= row.outcome_offset) continue;
    row.outcome_partition = partition;
    row.outcome_offset = offset;
    row.organization_uuid ??= outcome.organizationUuid;
    const state: EndpointHealthState = {
      consecutiveFailures: row.consecutive_failures,
      failingSince: ms(row.failing_since),
      lastSuccessAt: ms(row.last_success_at),
      status: row.status as EndpointStatus,
    };
    const succeeded = attemptVerdict(outcome.result) === "success";
    const update = applyAttemptOutcome(state, { succeeded, at: outcome.attemptedAt }, policy);
    row.consecutive_failures = update.state.consecutiveFailures;
    row.failing_since = toDate(update.state.failingSince);
    row.last_success_at = toDate(update.state.lastSuccessAt);
    row.status = update.state.status;
    if (row.last_attempt_at === null || outcome.attemptedAt > row.last_attempt_at.getTime()) row.last_attempt_at = new Date(outcome.attemptedAt);
    if (!succeeded && (row.last_failure_at === null || outcome.attemptedAt >= row.last_failure_at.getTime())) {
      row.last_failure_at = new Date(outcome.attemptedAt);
      row.last_status_code = outcome.statusCode;
      row.last_error = [outcome.errorClass, outcome.errorMessage].filter((part) => part).join(": ").slice(0, 500) || null;
    }
    if (update.transition === "auto_paused") {
      row.pause_state = "PENDING";
      row.pause_reason = update.reason ?? "CONSECUTIVE_FAILURES";
      row.pause_event_id = autoPauseEventId(id, update.state.failingSince!);
      row.pause_trigger_at = new Date(outcome.attemptedAt);
      row.paused_consecutive_failures = update.state.consecutiveFailures;
      row.paused_failing_since = toDate(update.state.failingSince);
      row.episodes += 1;
      paused.push({ endpointId: id, reason: row.pause_reason });
      // Already resumed by a configuration written after this failure (a re-projection that
      // read the resume first): the episode is recorded, and is over.
      if (row.config_status === "ACTIVE" && row.config_updated_at !== null && row.config_updated_at.getTime() > outcome.attemptedAt) {
        row.status = "ACTIVE";
        row.consecutive_failures = 0;
        row.failing_since = null;
      }
    }
  }
  await trx("endpoint_health").insert([...rows.values()]).onConflict("endpoint_id").merge();
  return paused;
}
