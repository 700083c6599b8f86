import type { Knex } from "knex";
import { autoPauseEventId, sweepEndpointHealth, type AutoPausePolicy, type EndpointStatus } from "@novatrade/domain";

/**
 * The 72 h rule for endpoints with no new attempt (their deliveries wait in the long retry
 * tiers, so no failure arrives to trigger it): marks each endpoint whose streak is older than
 * the limit at `now` (epoch milliseconds, from the injected clock) as auto-paused, pending.
 * @returns the endpoints paused by this sweep.
 */
export async function sweepFailingEndpoints(db: Knex, policy: AutoPausePolicy, now: number): Promise<string[]> {
  return db.transaction(async (trx) => {
    const rows = (await trx("endpoint_health")
      .where({ status: "ACTIVE" })
      .whereNotNull("failing_since")
      .where("failing_since", "<=", new Date(now - policy.maxFailingDurationMs))
      .orderBy("endpoint_id")
      .forUpdate()) as { endpoint_id: string; consecutive_failures: number; failing_since: Date; last_success_at: Date | null; status: string; episodes: number }[];
    const paused: string[] = [];
    for (const row of rows) {
      const update = sweepEndpointHealth(
        {
          consecutiveFailures: row.consecutive_failures,
          failingSince: row.failing_since.getTime(),
          lastSuccessAt: row.last_success_at?.getTime() ?? null,
          status: row.status as EndpointStatus,
        },
        now,
        policy,
      );
      if (update.transition !== "auto_paused") continue;
      await trx("endpoint_health")
        .where({ endpoint_id: row.endpoint_id })
        .update({
          status: "PAUSED",
          pause_state: "PENDING",
          pause_reason: update.reason,
          pause_event_id: autoPauseEventId(row.endpoint_id, row.failing_since.getTime()),
          pause_trigger_at: new Date(now),
          paused_consecutive_failures: row.consecutive_failures,
          paused_failing_since: row.failing_since,
          episodes: row.episodes + 1,
        });
      paused.push(row.endpoint_id);
    }
    return paused;
  });
}
