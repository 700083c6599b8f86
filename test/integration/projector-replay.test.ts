import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { autoPauseEventId } from "@novatrade/domain";
import type { Database } from "@novatrade/database";
import type { DeliveryOutcomeRecord } from "@novatrade/event-codec";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import {
  dropSchema,
  newSchemaName,
  openDatabase,
  outcomeRecord,
  produceOutcomes,
  projectorEnv,
  snapshotTables,
  startTestProjector,
  waitCaughtUp,
  waitForRows,
} from "../support/projector.js";
import { runCli } from "../support/run-cli.js";
import { startServiceProcess } from "../support/service-process.js";
import { waitUntil } from "../support/wait-until.js";

/*
 * Idempotence of the projection: the projector SIGKILLed mid-stream and restarted, a fresh
 * projection of the same log from offset 0, and a re-read of the log into the same tables all
 * give identical tables, and the auto-pause event is produced once. Also the compliance rollup
 * and the history command, on the same data.
 */

const DELIVERIES = 3000;
const ATTEMPTS_EACH = 5; // four failures, then a success: no synthetic endpoint is ever paused
const ENDPOINTS = 60;
const ORG_A = randomUUID();
const ORG_B = randomUUID();

let pipeline: Pipeline;
const schemas = [newSchemaName(), newSchemaName()];
const dbs: Database[] = [];
let failingEndpointId = "";
let streakStart = 0;
let outOfOrderDeliveryId = "";
const complianceIds: Record<string, string> = {};

function workload(t: number): DeliveryOutcomeRecord[] {
  const outcomes: DeliveryOutcomeRecord[] = [];
  for (let d = 0; d < DELIVERIES; d++) {
    const endpointId = `ep_synthetic_${d % ENDPOINTS}`;
    const deliveryId = `dlv_${randomUUID().replaceAll("-", "").slice(0, 24)}`;
    for (let a = 1; a <= ATTEMPTS_EACH; a++) {
      const last = a === ATTEMPTS_EACH;
      outcomes.push(
        outcomeRecord({
          endpointId,
          deliveryId,
          eventId: `evt_${deliveryId.slice(4)}`,
          organizationUuid: ORG_A,
          attempt: a,
          attemptedAt: t + d * 10 + a,
          result: last ? "SUCCEEDED" : "FAILED_RETRYING",
          statusCode: last ? 200 : 502,
          errorClass: last ? null : "http_status",
          nextAttemptAt: last ? null : t + d * 10 + a + 1,
        }),
      );
    }
  }
  // A delivery whose attempt 3 outcome is read before attempt 2's: the newer state stays.
  outOfOrderDeliveryId = "dlv_out_of_order";
  for (const attempt of [1, 3, 2]) {
    outcomes.push(
      outcomeRecord({ endpointId: "ep_synthetic_0", deliveryId: outOfOrderDeliveryId, attempt, attemptedAt: t + 100_000 + attempt, result: attempt === 3 ? "SUCCEEDED" : "FAILED_RETRYING", statusCode: attempt === 3 ? 200 : 500 }),
    );
  }
  // A configured endpoint fails 20 times in a row: one auto-pause, one meta event.
  streakStart = t + 200_000;
  for (let i = 0; i < 20; i++) outcomes.push(outcomeRecord({ endpointId: failingEndpointId, organizationUuid: ORG_A, attemptedAt: streakStart + i }));
  return outcomes;
}

async function publishCompliance(): Promise<void> {
  const status = (organizationUuid: string, orderId: string, fromStatus: string | null, toStatus: string, at: number) =>
    pipeline.publish({
      type: "compliance.status_changed",
      organizationUuid,
      schemaVersion: 1,
      data: { orderId, orderReference: `REF-${orderId}`, fromStatus, toStatus, missingRequirements: [], changedAt: new Date(at).toISOString() },
    });
  const t = Date.now();
  complianceIds.a1 = await status(ORG_A, "order-1", null, "INCOMPLETE", t);
  complianceIds.a2 = await status(ORG_A, "order-1", "INCOMPLETE", "VALID", t + 1000);
  complianceIds.a3 = await pipeline.publish({
    type: "compliance.decision_made",
    organizationUuid: ORG_A,
    data: { orderId: "order-1", orderReference: "REF-order-1", verdict: "VALID_EXPORT", automated: true, decidedByUserUuid: null, reason: null, decidedAt: new Date(t + 2000).toISOString() },
  });
  complianceIds.a4 = await status(ORG_A, "order-2", null, "PENDING_REVIEW", t + 500);
  complianceIds.b1 = await status(ORG_B, "order-9", null, "INVALID", t);
}

beforeAll(async () => {
  pipeline = await startPipeline();
  const { config } = await pipeline.addEndpoint({ organizationUuid: ORG_A, url: "https://example.com/hooks", eventTypes: ["kyc.*"] });
  failingEndpointId = config.endpointId;
  await publishCompliance();
  await produceOutcomes(pipeline, workload(Date.now() + 1000));
  for (const schema of schemas) dbs.push(openDatabase(schema));
});

afterAll(async () => {
  for (const db of dbs) await db.destroy();
  await pipeline?.close();
  for (const schema of schemas) await dropSchema(schema);
});

const TOTAL_DELIVERIES = DELIVERIES + 1 + 20;
let killedRun: Record<string, unknown[]> = {};

describe("projector: re-reading the log gives the same tables", () => {
  test("SIGKILLed mid-stream and restarted: every row once, and no second auto-pause event", async () => {
    const env = projectorEnv(pipeline, schemas[0]!, { PROJECTOR_PARTITIONS_CONCURRENTLY: "1" });
    const db = dbs[0]!;
    let projector = await startServiceProcess("projector", env);
    // Killed while part of the log is projected: no shutdown hook runs, nothing is flushed.
    let atKill = 0;
    await waitUntil(async () => {
      const [row] = await db("deliveries").count({ n: "*" }).catch(() => [{ n: 0 }]);
      atKill = Number(row!.n);
      return atKill > 0;
    }, { what: "the first projected deliveries", intervalMs: 20 });
    await projector.kill();
    expect(atKill).toBeLessThan(TOTAL_DELIVERIES);

    projector = await startServiceProcess("projector", env);
    try {
      await waitForRows(db, "deliveries", TOTAL_DELIVERIES);
      await waitUntil(async () => (await db("endpoint_health").where({ endpoint_id: failingEndpointId }).first())?.pause_state === "DONE", { what: "the auto-pause carried out" });
      await pipeline.domainEvents.waitFor((events) => events.some((e) => e.type === "webhook.endpoint_auto_paused"), "the auto-pause event");
      await waitCaughtUp(pipeline, env.PROJECTOR_GROUP_ID!);
    } finally {
      await projector.stop();
    }
    expect(await db("deliveries").count({ n: "*" })).toEqual([{ n: TOTAL_DELIVERIES }]);
    expect(await db("attempts").count({ n: "*" })).toEqual([{ n: DELIVERIES * ATTEMPTS_EACH + 3 + 20 }]);
    const metaEvents = pipeline.domainEvents.records.filter((e) => e.type === "webhook.endpoint_auto_paused");
    expect(metaEvents.map((e) => e.id)).toEqual([autoPauseEventId(failingEndpointId, streakStart)]);
    expect(await db("endpoint_health").where({ endpoint_id: failingEndpointId }).first()).toMatchObject({ consecutive_failures: 20, status: "PAUSED", episodes: 1 });
    killedRun = await snapshotTables(db);
  });

  test("a fresh projection from offset 0 gives identical tables", async () => {
    const env = projectorEnv(pipeline, schemas[1]!);
    const projector = await startTestProjector(env);
    try {
      await waitForRows(dbs[1]!, "deliveries", TOTAL_DELIVERIES);
      await waitUntil(async () => (await dbs[1]!("endpoint_health").where({ endpoint_id: failingEndpointId }).first())?.pause_state === "DONE", { what: "the pause decided again" });
      await waitCaughtUp(pipeline, env.PROJECTOR_GROUP_ID!);
    } finally {
      await projector.stop();
    }
    expect(await snapshotTables(dbs[1]!)).toEqual(killedRun);
  });

  test("re-reading the whole log into the same tables changes nothing", async () => {
    const env = projectorEnv(pipeline, schemas[0]!); // a new group: offsets from 0
    const projector = await startTestProjector(env);
    try {
      await waitCaughtUp(pipeline, env.PROJECTOR_GROUP_ID!);
    } finally {
      await projector.stop();
    }
    expect(await snapshotTables(dbs[0]!)).toEqual(killedRun);
  });

  test("an older attempt read after a newer one does not overwrite the delivery's state", async () => {
    const delivery = await dbs[0]!("deliveries").where({ delivery_id: outOfOrderDeliveryId }).first();
    expect(delivery).toMatchObject({ status: "SUCCEEDED", attempts: 3, last_status_code: 200 });
    const attempts = await dbs[0]!("attempts").where({ delivery_id: outOfOrderDeliveryId }).orderBy("attempt");
    expect(attempts.map((a) => [a.attempt, a.result])).toEqual([[1, "FAILED_RETRYING"], [2, "FAILED_RETRYING"], [3, "SUCCEEDED"]]);
  });

  test("compliance rollup: latest status and verdict per order, a version per organization", async () => {
    const rows = await dbs[0]!("compliance_rollup").whereIn("organization_uuid", [ORG_A, ORG_B]).orderBy(["organization_uuid", "order_id"]);
    const byOrder = Object.fromEntries(rows.map((row) => [row.order_id, row]));
    expect(byOrder["order-1"]).toMatchObject({ organization_uuid: ORG_A, status: "VALID", verdict: "VALID_EXPORT", as_of_event_id: complianceIds.a3, order_reference: "REF-order-1" });
    expect(byOrder["order-2"]).toMatchObject({ status: "PENDING_REVIEW", verdict: null, as_of_event_id: complianceIds.a4 });
    expect(byOrder["order-9"]).toMatchObject({ organization_uuid: ORG_B, status: "INVALID" });
    const versions = Object.fromEntries((await dbs[0]!("compliance_versions").whereIn("organization_uuid", [ORG_A, ORG_B])).map((row) => [row.organization_uuid, row.version]));
    // Four changes in organization A, one in B; re-reading the log (the tests above) moved nothing.
    expect(versions).toEqual({ [ORG_A]: 4, [ORG_B]: 1 });
  });

  test("the history command lists an endpoint's recent deliveries with their attempts", async () => {
    const env = { DATABASE_URL: projectorEnv(pipeline, schemas[0]!).DATABASE_URL!, PROJECTOR_DATABASE_SCHEMA: schemas[0]! };
    const table = await runCli("services/projector/dist/history-cli.js", [failingEndpointId, "--limit", "5"], env);
    expect(table.stderr).toBe("");
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split("\n");
    expect(lines.filter((line) => line.startsWith("dlv_"))).toHaveLength(5);
    expect(lines[1]).toMatch(/^ {4}#1 .* FAILED_RETRYING {2}HTTP 500 /);

    const { event_id: eventId } = await dbs[0]!("deliveries").where({ endpoint_id: "ep_synthetic_1" }).first();
    const json = await runCli("services/projector/dist/history-cli.js", ["--event", eventId, "--json"], env);
    expect(json.code).toBe(0);
    const [delivery] = JSON.parse(json.stdout) as { eventId: string; status: string; attemptList: { attempt: number; result: string }[] }[];
    expect(delivery).toMatchObject({ eventId, status: "SUCCEEDED" });
    expect(delivery!.attemptList.map((a) => a.result)).toEqual(["FAILED_RETRYING", "FAILED_RETRYING", "FAILED_RETRYING", "FAILED_RETRYING", "SUCCEEDED"]);
    const usage = await runCli("services/projector/dist/history-cli.js", [], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/usage: history/);
  });
});
