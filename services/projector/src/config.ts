import { z } from "zod";
import { commonEnv, intVar, parseEnv, pipelineEnv, stringVar } from "@novatrade/service-runtime";

const HOUR_MS = 60 * 60 * 1000;

/** Projector configuration, parsed once in main.ts. */
export function loadConfig(env: Record<string, string | undefined>) {
  return parseEnv(
    {
      ...commonEnv,
      /** Partitions of an endpoint's delivery topic, should an auto-pause find it missing. */
      DELIVERY_TOPIC_PARTITIONS: pipelineEnv.DELIVERY_TOPIC_PARTITIONS,
      /** Where the history lives: postgres://user:password@host:port/database. */
      DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL").default("postgres://novatrade:novatrade@127.0.0.1:15432/novatrade"),
      /** PostgreSQL schema of the projector's tables (created and migrated at start). */
      PROJECTOR_DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/, "must be a lower-case SQL identifier").default("public"),
      /** Most pooled database connections. */
      PROJECTOR_DATABASE_POOL_MAX: intVar(10, 1),
      /** Consumer group of all projector instances; default `<TOPIC_PREFIX>projector`. */
      PROJECTOR_GROUP_ID: z.string().min(1).optional(),
      /** Failed attempts in a row that auto-pause an endpoint (SPEC §4). */
      PROJECTOR_AUTO_PAUSE_FAILURES: intVar(20, 1),
      /** Continuous failure that auto-pauses an endpoint, in milliseconds (default 72 h). */
      PROJECTOR_AUTO_PAUSE_FAILING_MS: intVar(72 * HOUR_MS, 1),
      /** How often endpoints with no new attempt are checked against the duration rule, in milliseconds. */
      PROJECTOR_SWEEP_INTERVAL_MS: intVar(60_000, 100),
      /** How often paused endpoints are counted for novatrade_endpoints_paused, in milliseconds. */
      PROJECTOR_PAUSED_COUNT_INTERVAL_MS: intVar(30_000, 100),
      /** Days of history kept (whole day partitions are dropped after that). */
      PROJECTOR_RETENTION_DAYS: intVar(30, 1),
      /** Days of partitions created ahead of today. */
      PROJECTOR_PARTITIONS_AHEAD_DAYS: intVar(7, 0),
      /** How often partitions are created ahead and expired ones dropped, in milliseconds. */
      PROJECTOR_MAINTENANCE_INTERVAL_MS: intVar(HOUR_MS, 1_000),
      /** First wait after a database failure, in milliseconds; doubles up to the maximum. */
      PROJECTOR_DB_RETRY_MIN_MS: intVar(500, 1),
      /** Longest wait between database retries, in milliseconds. */
      PROJECTOR_DB_RETRY_MAX_MS: intVar(10_000, 1),
      /** Partitions handled at the same time (each is one ordered stream of batches). */
      PROJECTOR_PARTITIONS_CONCURRENTLY: intVar(3, 1),
      PROJECTOR_OPS_HOST: stringVar("127.0.0.1"),
      PROJECTOR_OPS_PORT: intVar(9403),
    },
    env,
    (config) =>
      config.PROJECTOR_DB_RETRY_MIN_MS > config.PROJECTOR_DB_RETRY_MAX_MS
        ? ["PROJECTOR_DB_RETRY_MIN_MS: must not exceed PROJECTOR_DB_RETRY_MAX_MS"]
        : [],
  );
}

export type ProjectorConfig = ReturnType<typeof loadConfig>;
