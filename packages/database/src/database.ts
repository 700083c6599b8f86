import knex, { type Knex } from "knex";
import pg from "pg";

// pg returns int8 (bigint) columns as strings; every bigint here (revisions, offsets,
// versions, latencies) fits a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
// A `date` stays the `YYYY-MM-DD` text it is: turning it into a local-time Date shifts days.
pg.types.setTypeParser(pg.types.builtins.DATE, (value) => value);

export type Database = Knex;

export interface DatabaseOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** PostgreSQL schema holding the tables (default `public`); tests use one each. */
  schema?: string;
  /** Most pooled connections (default 10). */
  poolMax?: number;
  /** How long to wait for a connection, in milliseconds (default 10000). */
  connectTimeoutMs?: number;
  /**
   * Where knex's own warnings go (a pino child in services). Default: nowhere, instead of
   * knex's console output; callers report failed queries themselves.
   */
  log?: { warn(message: string): void; error(message: string): void };
}

const quiet = () => undefined;

/** One knex instance (a connection pool) per process, made in the composition root. */
export function createDatabase(options: DatabaseOptions): Database {
  return knex({
    client: "pg",
    connection: { connectionString: options.url, connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000 },
    searchPath: [options.schema ?? "public"],
    pool: { min: 0, max: options.poolMax ?? 10 },
    acquireConnectionTimeout: options.connectTimeoutMs ?? 10_000,
    log: {
      warn: options.log ? (message: unknown) => options.log!.warn(String(message)) : quiet,
      error: options.log ? (message: unknown) => options.log!.error(String(message)) : quiet,
      deprecate: quiet,
      debug: quiet,
    },
  });
}

/** Whether an error means PostgreSQL could not be reached (retry later), not a bad statement. */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string") {
    // 08xxx connection exceptions (but 08P01, a protocol violation, is a bug), 57P01-03 admin
    // shutdown / crash / cannot connect now.
    if ((code.startsWith("08") && code !== "08P01") || code === "57P01" || code === "57P02" || code === "57P03") return true;
    if (["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ENOTFOUND"].includes(code)) return true;
  }
  const name = (error as { name?: unknown } | null)?.name;
  if (name === "KnexTimeoutError") return true;
  const message = (error as Error | null)?.message ?? "";
  return /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message);
}
