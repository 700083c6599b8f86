import type { Database } from "./database.js";
import { migrationSource } from "./migration-source.js";

/**
 * Brings the schema to the latest version; safe to run again and from several processes at
 * once (knex holds a lock table while migrating). Creates the PostgreSQL schema if missing.
 * @returns the migrations that ran now (empty when already up to date).
 */
export async function migrateLatest(db: Database, schema = "public"): Promise<string[]> {
  await db.raw("CREATE SCHEMA IF NOT EXISTS ??", [schema]);
  const [, applied] = (await db.migrate.latest({ migrationSource, schemaName: schema, tableName: "knex_migrations" })) as [number, string[]];
  return applied;
}
