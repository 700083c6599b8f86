import type { Knex } from "knex";
import * as historyTables from "./migrations/0001-history-tables.js";
import * as adminTables from "./migrations/0100-admin-tables.js";
import * as endpointPauses from "./migrations/0101-endpoint-pauses.js";

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/**
 * The migrations, in order. Listed in code rather than found on disk, so the compiled package
 * runs them from anywhere (the migrate command, the projector, tests) with no path to get wrong.
 * Versioned and forward-only: add a file, never edit one that has shipped.
 */
const MIGRATIONS: ReadonlyArray<readonly [string, Migration]> = [["0001-history-tables", historyTables], ["0100-admin-tables", adminTables], ["0101-endpoint-pauses", endpointPauses]];

export const migrationSource: Knex.MigrationSource<readonly [string, Migration]> = {
  getMigrations: async () => [...MIGRATIONS],
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};
