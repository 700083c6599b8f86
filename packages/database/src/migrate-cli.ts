#!/usr/bin/env node
import { DEFAULT_RETENTION_POLICY } from "@novatrade/domain";
import { createDatabase } from "./database.js";
import { migrateLatest } from "./migrate.js";
import { maintainPartitions } from "./partitions.js";

/**
 * `npm run migrate` / `make migrate`: brings DATABASE_URL's schema (DATABASE_SCHEMA, else the
 * projector's PROJECTOR_DATABASE_SCHEMA, default public) to the latest version and creates today's and the coming week's partitions.
 * Re-runnable; exits 1 with the reason when the database cannot be migrated.
 */
const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write("migrate: DATABASE_URL is not set (e.g. postgres://novatrade:novatrade@127.0.0.1:15432/novatrade)\n");
  process.exit(2);
}
const schema = process.env.DATABASE_SCHEMA ?? process.env.PROJECTOR_DATABASE_SCHEMA ?? "public";
const db = createDatabase({ url, schema, poolMax: 2 });
try {
  const applied = await migrateLatest(db, schema);
  const { created } = await maintainPartitions(db, Date.now(), DEFAULT_RETENTION_POLICY);
  process.stdout.write(
    `migrate: schema ${schema} ${applied.length > 0 ? `migrated (${applied.join(", ")})` : "already up to date"}; ${created.length} partition day(s) created\n`,
  );
} catch (error) {
  process.stderr.write(`migrate: failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await db.destroy();
}
