import { cpus, totalmem } from "node:os";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { deliveryTopic } from "@novatrade/domain";
import { sampleEvent } from "@novatrade/event-codec";
import { adminEnv, apiClient, organizationKey, startTestAdmin, type TestAdmin } from "../test/support/admin.js";
import { startPipeline, TEST_ORGANIZATION, type Pipeline } from "../test/support/pipeline.js";
import { dropSchema, newSchemaName, outcomeRecord, produceOutcomes, projectorEnv, startTestProjector, waitForRows, type TestProjector } from "../test/support/projector.js";
import { waitUntil } from "../test/support/wait-until.js";

/**
 * The admin service on this machine: history query times over a filled history, and a replay
 * of 10,000 deliveries of one endpoint (from POST to the job's end: offsets by timestamp, the
 * admin's own reader, 10,000 re-queued records). Figures are printed and written to
 * bench/results/admin-replay.json; nothing here asserts a timing.
 */
const results: Record<string, unknown> = {
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  date: new Date().toISOString(),
};

const REPLAY_DELIVERIES = 10_000;
const HISTORY_DELIVERIES = 20_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe("admin", () => {
  let pipeline: Pipeline;
  let projector: TestProjector;
  let admin: TestAdmin;
  const schema = newSchemaName();

  afterAll(async () => {
    await admin?.stop();
    await projector?.stop();
    await pipeline?.close();
    await dropSchema(schema);
    const out = path.join(path.dirname(fileURLToPath(import.meta.url)), "results");
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, "admin-replay.json"), `${JSON.stringify(results, null, 2)}\n`);
    console.log(JSON.stringify(results, null, 2));
  });

  test("history queries and a replay of 10,000 deliveries", async () => {
    pipeline = await startPipeline();
    projector = await startTestProjector(projectorEnv(pipeline, schema));
    admin = await startTestAdmin(adminEnv(pipeline, schema));
    const { key } = await organizationKey(admin.url, TEST_ORGANIZATION);
    const api = apiClient(admin.url, key);

    // History: 20,000 deliveries (one attempt each) over 10 endpoints, through the projector.
    const endpoints = Array.from({ length: 10 }, (_, index) => `ep_bench${index}`);
    const base = Date.now() - 6 * 3_600_000;
    const outcomes = Array.from({ length: HISTORY_DELIVERIES }, (_, index) =>
      outcomeRecord({ endpointId: endpoints[index % endpoints.length]!, attemptedAt: base + index * 1_000, result: index % 10 === 0 ? "FAILED_TERMINAL" : "SUCCEEDED", organizationUuid: TEST_ORGANIZATION }),
    );
    for (let start = 0; start < outcomes.length; start += 2_000) await produceOutcomes(pipeline, outcomes.slice(start, start + 2_000));
    const db = projector.app.db;
    await waitForRows(db, "deliveries", HISTORY_DELIVERIES, {}, 600_000);
    const timed = async (label: string, path: string) => {
      const runs: number[] = [];
      let answer;
      for (let run = 0; run < 15; run++) {
        const started = performance.now();
        answer = await api("GET", path);
        runs.push(performance.now() - started);
      }
      expect(answer!.status).toBe(200);
      return [label, { medianMs: Math.round(median(runs) * 10) / 10, maxMs: Math.round(Math.max(...runs) * 10) / 10 }] as const;
    };
    const firstPage = await api("GET", "/v1/deliveries?limit=50");
    let cursor: string = firstPage.body.nextCursor;
    for (let page = 0; page < 19; page++) cursor = (await api("GET", `/v1/deliveries?limit=50&cursor=${cursor}`)).body.nextCursor;
    const someDelivery = firstPage.body.data[0].deliveryId;
    const someEvent = firstPage.body.data[0].eventId;
    const from = new Date(base + 3_600_000).toISOString();
    const to = new Date(base + 2 * 3_600_000).toISOString();
    results.history = {
      deliveriesInTable: HISTORY_DELIVERIES,
      queries: Object.fromEntries([
        await timed("newest 50", "/v1/deliveries?limit=50"),
        await timed("one endpoint, newest 50", `/v1/deliveries?endpointId=${endpoints[3]}&limit=50`),
        await timed("FAILED_TERMINAL, newest 50", "/v1/deliveries?status=FAILED_TERMINAL&limit=50"),
        await timed("by event id", `/v1/deliveries?eventId=${someEvent}`),
        await timed("one hour of one endpoint", `/v1/deliveries?endpointId=${endpoints[3]}&from=${from}&to=${to}&limit=500`),
        await timed("page 21 by cursor (50 each)", `/v1/deliveries?limit=50&cursor=${cursor}`),
        await timed("one delivery with attempts", `/v1/deliveries/${someDelivery}`),
      ]),
    };

    // Replay: 10,000 deliveries of one endpoint, routed by the real router onto its topic.
    const created = await api("POST", "/v1/endpoints", { url: "http://127.0.0.1:9/bench", eventTypes: ["compliance.*"] });
    const endpointId: string = created.body.endpointId;
    const rangeStart = Date.now();
    await pipeline.startRouter();
    await waitUntil(() => pipeline.router?.directory.get(endpointId), { what: "the router to see the endpoint" });
    const data = sampleEvent("compliance.decision_made").data;
    for (let sent = 0; sent < REPLAY_DELIVERIES; sent += 2_000) await pipeline.publishMany(2_000, { type: "compliance.decision_made", data });
    const topic = deliveryTopic(pipeline.naming, endpointId);
    await waitUntil(async () => {
      const offsets = await pipeline.kafka.admin.fetchTopicOffsets(topic).catch(() => []);
      return offsets.reduce((sum, partition) => sum + Number(partition.high), 0) >= REPLAY_DELIVERIES;
    }, { what: "10,000 routed deliveries", timeoutMs: 600_000, intervalMs: 500 });
    await pipeline.stopRouter();
    const rangeEnd = Date.now() + 1;
    await waitUntil(() => Date.now() > rangeEnd, { what: "the clock to pass the end" });

    const started = performance.now();
    const job = await api("POST", "/v1/replays", { kind: "range", endpointId, from: new Date(rangeStart).toISOString(), to: new Date(rangeEnd).toISOString() });
    const done = await waitUntil(async () => {
      const answer = await api("GET", `/v1/replays/${job.body.jobId}`);
      return answer.body.state === "succeeded" || answer.body.state === "failed" ? answer.body : undefined;
    }, { what: "the replay job", timeoutMs: 600_000, intervalMs: 100 });
    const seconds = (performance.now() - started) / 1000;
    expect(done).toMatchObject({ state: "succeeded", requeued: REPLAY_DELIVERIES });
    results.replay = { deliveries: REPLAY_DELIVERIES, seconds: Math.round(seconds * 100) / 100, perSecond: Math.round(REPLAY_DELIVERIES / seconds) };
  });
});
