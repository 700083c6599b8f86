import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { topicNames } from "@novatrade/domain";
import type { Database } from "@novatrade/database";
import { sampleEvent } from "@novatrade/event-codec";
import { localPostgres } from "../support/local-postgres.js";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import {
  dropSchema,
  newSchemaName,
  openDatabase,
  outcomeRecord,
  produceOutcomes,
  projectorEnv,
  startTestProjector,
  waitForRows,
  type TestProjector,
} from "../support/projector.js";
import { waitUntil } from "../support/wait-until.js";

/*
 * PostgreSQL stopped for 60 s while the projector runs (the outage): it stops
 * projecting, reports not ready (/readyz 503) while staying live (/healthz 200: a restart would not help), commits nothing, retries with back-off, and
 * catches up once the database is back, with every record exactly once.
 */

const OUTAGE_MS = 60_000;
const BATCH = 400;
let pipeline: Pipeline;
let projector: TestProjector;
let db: Database;
const schema = newSchemaName();
let env: Record<string, string>;

beforeAll(async () => {
  if (!localPostgres.isLocal()) return;
  pipeline = await startPipeline();
  env = projectorEnv(pipeline, schema, { PROJECTOR_DB_RETRY_MIN_MS: "250", PROJECTOR_DB_RETRY_MAX_MS: "4000" });
  projector = await startTestProjector(env);
  db = openDatabase(schema);
});

afterAll(async () => {
  // Whatever happened, the database is left running for the tests after this one.
  if (localPostgres.isLocal()) await localPostgres.start();
  await projector?.stop();
  await db?.destroy();
  await pipeline?.close();
  if (localPostgres.isLocal()) await dropSchema(schema);
});

async function probe(path: "/readyz" | "/healthz"): Promise<number> {
  return (await fetch(`http://127.0.0.1:${projector.app.opsPort}${path}`)).status;
}

async function committedOutcomes(): Promise<number> {
  const offsets = await pipeline.kafka.admin.fetchGroupOffsets(env.PROJECTOR_GROUP_ID!, [topicNames(pipeline.naming).deliveryOutcome]);
  return offsets.reduce((sum, { offset }) => sum + Math.max(0, Number(offset ?? 0)), 0);
}

const outcomes = (label: string) =>
  Array.from({ length: BATCH }, (_, i) => outcomeRecord({ endpointId: `ep_outage_${i % 7}`, deliveryId: `dlv_${label}_${i}`, attemptedAt: Date.now() + i, result: i % 3 === 0 ? "SUCCEEDED" : "FAILED_RETRYING" }));

describe.skipIf(!localPostgres.isLocal())("projector: PostgreSQL down for 60 s", () => {
  test("not ready while down, nothing committed, everything projected exactly once afterwards", async () => {
    // Before: the encoders have their schema ids, so producing needs no registry (whose own
    // storage is this PostgreSQL) during the outage.
    const eventBefore = await pipeline.publish({ type: "kyc.vies_check_failed", data: sampleEvent("kyc.vies_check_failed").data });
    await pipeline.addEndpoint({ url: "https://example.com/outage-before", eventTypes: ["kyc.*"] });
    await produceOutcomes(pipeline, outcomes("before"));
    await waitForRows(db, "deliveries", BATCH);
    await waitForRows(db, "events", 1, { event_id: eventBefore });
    await waitUntil(async () => (await committedOutcomes()) === BATCH, { what: "the first batch committed" });
    expect([await probe("/readyz"), await probe("/healthz")]).toEqual([200, 200]);

    const stoppedAt = Date.now();
    await localPostgres.stop();
    await produceOutcomes(pipeline, outcomes("during"));
    const eventDuring = await pipeline.publish({ type: "kyc.vies_check_failed", data: sampleEvent("kyc.vies_check_failed").data });
    const { config: endpointDuring } = await pipeline.addEndpoint({ url: "https://example.com/outage-during", eventTypes: ["kyc.*"] });

    await waitUntil(() => !projector.app.service.isReady(), { what: "the projector to report not ready" });
    expect([await probe("/readyz"), await probe("/healthz")]).toEqual([503, 200]);
    await waitUntil(async () => /novatrade_projector_database_up(\{[^}]*\})? 0/.test(await projector.registry.getSingleMetricAsString("novatrade_projector_database_up")), { what: "database_up 0" });

    // The outage lasts 60 s (the figure); meanwhile the projector keeps retrying.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, stoppedAt + OUTAGE_MS - Date.now())));
    expect(projector.app.service.isReady()).toBe(false);
    // Nothing read during the outage was committed: it will be read again, not lost.
    expect(await committedOutcomes()).toBe(BATCH);
    const errorsDuring = await projector.registry.getSingleMetricAsString("novatrade_projector_database_errors_total");
    expect(errorsDuring).toMatch(/kind="unavailable"} [1-9]/);

    await localPostgres.start();
    const restartedAt = Date.now();
    await waitUntil(() => projector.app.service.isReady(), { what: "ready again", timeoutMs: 90_000 });
    await waitForRows(db, "deliveries", 2 * BATCH);
    await waitForRows(db, "events", 1, { event_id: eventDuring });
    await waitForRows(db, "endpoints", 1, { endpoint_id: endpointDuring.endpointId });
    await waitUntil(async () => (await committedOutcomes()) === 2 * BATCH, { what: "the second batch committed" });
    const caughtUpMs = Date.now() - restartedAt;
    expect([await probe("/readyz"), await probe("/healthz")]).toEqual([200, 200]);

    // Exactly once: no delivery, attempt or health count doubled by the retried batches.
    expect(await db("deliveries").count({ n: "*" })).toEqual([{ n: 2 * BATCH }]);
    expect(await db("attempts").count({ n: "*" })).toEqual([{ n: 2 * BATCH }]);
    const folded = await db("endpoint_health").where("endpoint_id", "like", "ep_outage_%").sum({ failures: "consecutive_failures" });
    const lastFailures = new Map<string, number>();
    // The streak each endpoint should end with, folding both batches once each.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < BATCH; i++) {
        const endpoint = `ep_outage_${i % 7}`;
        lastFailures.set(endpoint, i % 3 === 0 ? 0 : (lastFailures.get(endpoint) ?? 0) + 1);
      }
    }
    expect(Number(folded[0]!.failures)).toBe([...lastFailures.values()].reduce((a, b) => a + b, 0));
    console.info(`[projector-outage] PostgreSQL down ${OUTAGE_MS / 1000} s: not ready, ${BATCH} outcomes held uncommitted; back: ready and caught up in ${caughtUpMs} ms, ${2 * BATCH} deliveries, no duplicates`);
  });
});
