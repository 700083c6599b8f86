import { randomUUID } from "node:crypto";
import { pino } from "pino";
import { Registry } from "prom-client";
import { topicNames } from "@novatrade/domain";
import { createDatabase, type Database } from "@novatrade/database";
import type { DeliveryOutcomeRecord } from "@novatrade/event-codec";
import type { StopFunction } from "@novatrade/service-runtime";
import { loadConfig } from "../../services/projector/src/config.js";
import { startProjector, type ProjectorApp } from "../../services/projector/src/projector-app.js";
import { infraEnv } from "./infra-env.js";
import { startPipeline, type Pipeline } from "./pipeline.js";
import { waitUntil } from "./wait-until.js";

/** A PostgreSQL schema of one test's own, dropped afterwards: tests never share tables. */
export function newSchemaName(): string {
  return `it_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

export function openDatabase(schema: string): Database {
  return createDatabase({ url: infraEnv.databaseUrl, schema, poolMax: 4 });
}

export async function dropSchema(schema: string): Promise<void> {
  const db = createDatabase({ url: infraEnv.databaseUrl, poolMax: 1 });
  try {
    await db.raw("DROP SCHEMA IF EXISTS ?? CASCADE", [schema]);
  } finally {
    await db.destroy();
  }
}

/** The projector's environment on a pipeline's topics and a schema of the test's own. */
export function projectorEnv(pipeline: Pipeline, schema: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...pipeline.env,
    DATABASE_URL: infraEnv.databaseUrl,
    PROJECTOR_DATABASE_SCHEMA: schema,
    PROJECTOR_GROUP_ID: `${pipeline.prefix}projector.${randomUUID().slice(0, 8)}`,
    PROJECTOR_OPS_PORT: "0",
    PROJECTOR_DB_RETRY_MIN_MS: "200",
    PROJECTOR_DB_RETRY_MAX_MS: "2000",
    // The sweep is driven by the tests (app.sweep()) with an injected clock.
    PROJECTOR_SWEEP_INTERVAL_MS: "3600000",
    ...extra,
  };
}

export interface TestProjector {
  app: ProjectorApp;
  registry: Registry;
  stop(): Promise<void>;
}

/** The projector in this test process: the same startProjector wiring as its main.ts. */
export async function startTestProjector(env: Record<string, string>, now?: () => number): Promise<TestProjector> {
  const stops: StopFunction[] = [];
  const registry = new Registry();
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const app = await startProjector(loadConfig(env), { logger, registry, onStop: (stop) => stops.push(stop), ...(now ? { now } : {}) });
  return {
    app,
    registry,
    stop: async () => {
      for (const stop of stops.splice(0).reverse()) await stop();
    },
  };
}

/** Every row of the projector's tables in a stable order, for comparing two projections. */
export async function snapshotTables(db: Database): Promise<Record<string, unknown[]>> {
  const order: Record<string, string> = {
    endpoints: "endpoint_id",
    events: "event_id",
    deliveries: "delivery_id",
    attempts: "delivery_id, attempt",
    endpoint_health: "endpoint_id",
    compliance_rollup: "organization_uuid, order_id",
    compliance_versions: "organization_uuid",
  };
  const snapshot: Record<string, unknown[]> = {};
  for (const [table, orderBy] of Object.entries(order)) {
    snapshot[table] = (await db.raw<{ rows: unknown[] }>(`SELECT * FROM ?? ORDER BY ${orderBy}`, [table])).rows;
  }
  return snapshot;
}

/** Waits until the projector's tables hold `count` rows that match `where` in `table`. */
export async function waitForRows(db: Database, table: string, count: number, where: Record<string, unknown> = {}, timeoutMs = 90_000): Promise<void> {
  let seen = 0;
  await waitUntil(
    async () => {
      const [row] = (await db(table).where(where).count({ n: "*" })) as { n: string | number }[];
      seen = Number(row?.n ?? 0);
      return seen >= count;
    },
    { what: `${count} rows in ${table} matching ${JSON.stringify(where)}`, timeoutMs, intervalMs: 200 },
  ).catch((error: Error) => {
    throw new Error(`${error.message} (saw ${seen})`);
  });
}

let outcomeSerial = 0;

/** A delivery outcome as the sender writes it, for feeding the projector directly. */
export function outcomeRecord(fields: Partial<DeliveryOutcomeRecord> & Pick<DeliveryOutcomeRecord, "endpointId" | "attemptedAt">): DeliveryOutcomeRecord {
  outcomeSerial++;
  const failed = fields.result === undefined || fields.result.startsWith("FAILED");
  return {
    deliveryId: `dlv_test${outcomeSerial}`,
    eventId: `evt_test${outcomeSerial}`,
    eventType: "kyc.vies_check_failed",
    organizationUuid: "5b7f2c1e-9d3a-4e8b-a6f0-1c2d3e4f5a6b",
    attempt: 1,
    result: "FAILED_RETRYING",
    statusCode: failed ? 500 : 200,
    latencyMs: 12,
    responseBody: failed ? "boom" : "ok",
    errorClass: failed ? "http_status" : null,
    errorMessage: failed ? "HTTP 500" : null,
    nextAttemptAt: null,
    replayId: null,
    ...fields,
  };
}

/** Writes outcomes to the pipeline's outcome topic, keyed by endpoint as the sender does. */
export async function produceOutcomes(pipeline: Pipeline, outcomes: DeliveryOutcomeRecord[]): Promise<void> {
  const messages = await Promise.all(
    outcomes.map(async (outcome) => ({ key: outcome.endpointId, value: await pipeline.records.encode("delivery-outcome", outcome) })),
  );
  await pipeline.producer.send(topicNames(pipeline.naming).deliveryOutcome, messages);
}

/**
 * Waits until `groupId` has committed every record of the pipeline's three input topics (the
 * projector commits only after its transaction): then its tables hold all of them.
 */
export async function waitCaughtUp(pipeline: Pipeline, groupId: string, timeoutMs = 120_000): Promise<void> {
  const names = topicNames(pipeline.naming);
  const topics = [names.deliveryOutcome, names.endpointConfig, names.domain];
  let behind = -1;
  await waitUntil(
    async () => {
      const committed = await pipeline.kafka.admin.fetchGroupOffsets(groupId, topics);
      behind = 0;
      for (const topic of topics) {
        for (const { partition, high } of await pipeline.kafka.admin.fetchTopicOffsets(topic)) {
          const offset = committed.find((c) => c.topic === topic && c.partition === partition)?.offset ?? null;
          const position = offset === null || Number(offset) < 0 ? 0 : Number(offset);
          behind += Math.max(0, Number(high) - position);
        }
      }
      return behind === 0;
    },
    { what: `group ${groupId} to commit every record`, timeoutMs, intervalMs: 250 },
  ).catch((error: Error) => {
    throw new Error(`${error.message} (${behind} records behind)`);
  });
}

/** A test file's pipeline topics, in-process projector and its own schema. */
export interface ProjectorSuite {
  pipeline: Pipeline;
  projector: TestProjector;
  db: Database;
}

/**
 * Registers beforeAll/afterAll hooks that start a pipeline (topics only), a projector on a
 * schema of the file's own with the clock `now`, and tear all of it down; the returned object
 * is filled in once beforeAll has run.
 */
export function projectorSuite(hooks: { beforeAll(fn: () => Promise<void>): void; afterAll(fn: () => Promise<void>): void }, now: () => number): ProjectorSuite {
  const schema = newSchemaName();
  const suite = {} as ProjectorSuite;
  hooks.beforeAll(async () => {
    suite.pipeline = await startPipeline();
    suite.projector = await startTestProjector(projectorEnv(suite.pipeline, schema), now);
    suite.db = openDatabase(schema);
  });
  hooks.afterAll(async () => {
    await suite.projector?.stop();
    await suite.db?.destroy();
    await suite.pipeline?.close();
    await dropSchema(schema);
  });
  return suite;
}
