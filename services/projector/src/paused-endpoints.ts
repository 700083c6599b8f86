import type { Database } from "@novatrade/database";

/** Why an endpoint is paused: by an operator or integrator (`manual`), or by the auto-pause rules (`auto`). */
export type PauseReason = "manual" | "auto";

/**
 * Endpoints whose configuration is PAUSED, by reason, from the health table: paused there too
 * (endpoint_health.status) means the auto-pause did it, otherwise someone paused it by hand.
 * One small aggregate over the table of endpoints (one row per endpoint).
 */
export async function countPausedEndpoints(db: Database): Promise<Record<PauseReason, number>> {
  const rows = (await db("endpoint_health")
    .where({ config_status: "PAUSED" })
    .select(db.raw("CASE WHEN status = 'PAUSED' THEN 'auto' ELSE 'manual' END AS reason"))
    .count({ n: "*" })
    .groupBy("reason")) as Array<{ reason: PauseReason; n: string | number }>;
  const counts: Record<PauseReason, number> = { manual: 0, auto: 0 };
  for (const row of rows) counts[row.reason] = Number(row.n);
  return counts;
}
