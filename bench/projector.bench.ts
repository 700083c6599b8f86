import { cpus, totalmem } from "node:os";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, test } from "vitest";
import { addDays, utcDay } from "@novatrade/domain";
import { endpointHistory, ensurePartitions, eventHistory, migrateLatest } from "@novatrade/database";
import { startPipeline, type Pipeline } from "../test/support/pipeline.js";
import { dropSchema, newSchemaName, openDatabase, outcomeRecord, projectorEnv, waitCaughtUp } from "../test/support/projector.js";
import { startServiceProcess, type ServiceProcess } from "../test/support/service-process.js";
import { topicNames } from "@novatrade/domain";

/**
 * The projector on this machine (`make bench-projector`): throughput in outcomes/s of the real
 * process against a backlog on the outcome topic, and the history queries' p50/p99 on tables of
 * 1 million (and, with BENCH_PROJECTOR_ROWS=1000000,10000000, 10 million) delivery rows.
 * Figures are printed and written to bench/results/projector.json; nothing asserts a timing.
 */
const OUTCOMES = Number(process.env.BENCH_PROJECTOR_OUTCOMES ?? 100_000);
const ROW_COUNTS = (process.env.BENCH_PROJECTOR_ROWS ?? "1000000").split(",").map(Number);
const QUERIES = 300;

const results: Record<string, unknown> = {
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  date: new Date().toISOString(),
};

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timeQueries(run: (i: number) => Promise<unknown>): Promise<{ p50Ms: number; p99Ms: number; maxMs: number }> {
  for (let i = 0; i < 20; i++) await run(i); // warm the cache and the plans
  const times: number[] = [];
  for (let i = 0; i < QUERIES; i++) {
    const started = performance.now();
    await run(i * 7919);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return { p50Ms: round(percentile(times, 50)), p99Ms: round(percentile(times, 99)), maxMs: round(times.at(-1)!) };
}

describe("projector", () => {
  const processes: ServiceProcess[] = [];
  const pipelines: Pipeline[] = [];
  const schemas: string[] = [];

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill()));
    for (const pipeline of pipelines) await pipeline.close();
    for (const schema of schemas) await dropSchema(schema);
    const out = path.join(path.dirname(fileURLToPath(import.meta.url)), "results");
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, "projector.json"), `${JSON.stringify(results, null, 2)}\n`);
    console.log(JSON.stringify(results, null, 2));
  });

  // BENCH_PROJECTOR_OUTCOMES=0 runs the query figures only.
  test.skipIf(OUTCOMES === 0)(`throughput: ${OUTCOMES} outcomes projected by the real process`, async () => {
    const pipeline = await startPipeline();
    pipelines.push(pipeline);
    const schema = newSchemaName();
    schemas.push(schema);
    // 5 attempts per delivery (4 failures then a success) over 500 endpoints, as the sender writes them.
    const t = Date.now();
    const topic = topicNames(pipeline.naming).deliveryOutcome;
    for (let start = 0; start < OUTCOMES; start += 5000) {
      const chunk = [];
      for (let i = start; i < Math.min(OUTCOMES, start + 5000); i++) {
        const delivery = Math.floor(i / 5);
        const attempt = (i % 5) + 1;
        const record = outcomeRecord({
          endpointId: `ep_bench_${delivery % 500}`,
          deliveryId: `dlv_bench_${delivery}`,
          eventId: `evt_bench_${delivery}`,
          attempt,
          attemptedAt: t + i,
          result: attempt === 5 ? "SUCCEEDED" : "FAILED_RETRYING",
          statusCode: attempt === 5 ? 200 : 503,
        });
        chunk.push({ key: record.endpointId, value: await pipeline.records.encode("delivery-outcome", record) });
      }
      await pipeline.producer.send(topic, chunk);
    }
    const env = projectorEnv(pipeline, schema);
    const started = performance.now();
    const projector = await startServiceProcess("projector", env);
    processes.push(projector);
    const startedUp = performance.now();
    await waitCaughtUp(pipeline, env.PROJECTOR_GROUP_ID!, 900_000);
    const seconds = (performance.now() - startedUp) / 1000;
    await projector.stop();
    processes.splice(processes.indexOf(projector), 1);
    const db = openDatabase(schema);
    const [{ n }] = (await db("attempts").count({ n: "*" })) as [{ n: number }];
    await db.destroy();
    results.throughput = {
      outcomes: OUTCOMES,
      attemptRowsWritten: n,
      startupSeconds: Math.round((startedUp - started) / 10) / 100,
      projectSeconds: Math.round(seconds * 100) / 100,
      outcomesPerSecond: Math.round(OUTCOMES / seconds),
    };
  });

  for (const rows of ROW_COUNTS) {
    test(`history queries at ${rows} delivery rows`, async () => {
      const schema = newSchemaName();
      schemas.push(schema);
      const db = openDatabase(schema);
      try {
        await migrateLatest(db, schema);
        const today = utcDay(Date.now());
        const days = Array.from({ length: 30 }, (_, i) => addDays(today, -i));
        await ensurePartitions(db, days);
        const endpoints = 2000;
        const loadStarted = performance.now();
        // 30 days of deliveries, 3 endpoints per event, 2 attempts per delivery (a failure then
        // a success), generated in the database: loading is not what is measured.
        const chunk = 1_000_000;
        for (let from = 0; from < rows; from += chunk) {
          const to = Math.min(rows, from + chunk) - 1;
          await db.raw(
            `INSERT INTO deliveries (day, delivery_id, event_id, event_type, endpoint_id, organization_uuid, status, attempts, first_attempted_at, last_attempted_at, last_status_code)
             SELECT d::date, 'dlv_' || i, 'evt_' || (i / 3), 'kyc.vies_check_failed', 'ep_' || (i % ${endpoints}), 'org_' || (i % 50), 'SUCCEEDED', 2,
                    d + make_interval(secs => (i % 86000)), d + make_interval(secs => (i % 86000) + 5), 200
               FROM generate_series(${from}, ${to}) AS i, LATERAL (SELECT (?::date - (i % 30))::timestamptz AS d) AS day`,
            [today],
          );
          await db.raw(
            `INSERT INTO attempts (day, delivery_id, attempt, endpoint_id, result, status_code, error_class, latency_ms, response_body, attempted_at)
             SELECT d::date, 'dlv_' || i, a, 'ep_' || (i % ${endpoints}), CASE a WHEN 1 THEN 'FAILED_RETRYING' ELSE 'SUCCEEDED' END,
                    CASE a WHEN 1 THEN 503 ELSE 200 END, CASE a WHEN 1 THEN 'http_status' END, 40, 'ok', d + make_interval(secs => (i % 86000) + a * 5)
               FROM generate_series(${from}, ${to}) AS i, generate_series(1, 2) AS a, LATERAL (SELECT (?::date - (i % 30))::timestamptz AS d) AS day`,
            [today],
          );
        }
        await db.raw("ANALYZE deliveries; ANALYZE attempts");
        const loadSeconds = Math.round((performance.now() - loadStarted) / 1000);
        const byEndpoint = await timeQueries((i) => endpointHistory(db, `ep_${i % endpoints}`, 50));
        const byEvent = await timeQueries((i) => eventHistory(db, `evt_${i % Math.floor(rows / 3)}`));
        const sample = await endpointHistory(db, "ep_7", 50);
        results[`history_${rows}`] = {
          deliveryRows: rows,
          attemptRows: rows * 2,
          loadSeconds,
          endpointLast50WithAttempts: { ...byEndpoint, deliveriesReturned: sample.length, attemptsReturned: sample.reduce((s, d) => s + d.attemptList.length, 0) },
          oneEventAcrossEndpoints: byEvent,
        };
      } finally {
        await db.destroy();
      }
    });
  }
});
