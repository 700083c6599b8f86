import { addDays, partitionDay, partitionName, planPartitions, type RetentionPolicy } from "@novatrade/domain";
import type { Database } from "./database.js";

/** The tables partitioned by UTC day (column `day`). */
export const PARTITIONED_TABLES = ["events", "deliveries", "attempts"] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

/** Days that have a partition, per table, read from the catalogue. */
export async function listPartitionDays(db: Database, table: PartitionedTable): Promise<string[]> {
  const result = await db.raw<{ rows: { name: string }[] }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(?)::oid`,
    [table],
  );
  return result.rows.map((row) => partitionDay(table, row.name)).filter((day): day is string => day !== null).sort();
}

/**
 * Creates the partitions of `days` that do not exist, for every history table. Concurrent
 * callers (two projector instances) may race: a partition created meanwhile is not an error.
 */
export async function ensurePartitions(db: Database, days: Iterable<string>): Promise<void> {
  for (const day of new Set(days)) {
    for (const table of PARTITIONED_TABLES) {
      try {
        // DDL takes no bind parameters: the bounds are inlined, and only after dayStart checked
        // that `day` is exactly YYYY-MM-DD (addDays goes through it).
        const next = addDays(day, 1);
        await db.raw(`CREATE TABLE IF NOT EXISTS ?? PARTITION OF ?? FOR VALUES FROM ('${day}') TO ('${next}')`, [partitionName(table, day), table]);
      } catch (error) {
        // 42P07 duplicate table / 23505 catalogue unique violation: another process won the race.
        const code = (error as { code?: string }).code;
        if (code !== "42P07" && code !== "23505") throw error;
      }
    }
  }
}

export interface MaintenanceResult {
  created: string[];
  dropped: string[];
}

/**
 * Creates today's and the coming days' partitions and drops whole partitions older than
 * retention (a catalogue operation, no row is deleted). `now` comes from the caller's clock.
 */
export async function maintainPartitions(db: Database, now: number, policy: RetentionPolicy): Promise<MaintenanceResult> {
  const existing = new Set<string>();
  for (const table of PARTITIONED_TABLES) for (const day of await listPartitionDays(db, table)) existing.add(day);
  const plan = planPartitions(existing, now, policy);
  await ensurePartitions(db, plan.create);
  for (const day of plan.drop) {
    for (const table of PARTITIONED_TABLES) await db.raw(`DROP TABLE IF EXISTS ??`, [partitionName(table, day)]);
  }
  return { created: plan.create, dropped: plan.drop };
}
