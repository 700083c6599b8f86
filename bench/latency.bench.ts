import { describe, test } from "vitest";
import { decisionDataOfSize, withBenchDispatcher } from "./support/dispatcher.js";
import { numberKnob } from "./support/knobs.js";
import { pacedRun } from "./support/paced-run.js";
import { loadAverage } from "./support/process-stats.js";
import { machine, printTable, writeResults } from "./support/results.js";

/**
 * Issue 7, latency: a load generator process produces a fixed rate of events, each stamped with
 * its creation time in the envelope (createdAt); the receiver process records its arrival (the
 * same machine's clock). Reported: p50/p95/p99/max of arrival minus creation for the events
 * created after the warm-up. Every event must arrive. Writes bench/results/latency.json.
 *
 * Knobs: BENCH_LATENCY_RATE (events/s, default 500), BENCH_DURATION_S (default 60),
 * BENCH_WARMUP_S (default 10), BENCH_LATENCY_ENDPOINTS (default 10, an organization each; every
 * event goes to one of them), BENCH_PAYLOAD_BYTES (default 1024), BENCH_LATENCY_END_OFFSET_POLL_MS
 * (the sender's SENDER_END_OFFSET_POLL_MS; default: unset, the service's own 5 s safety net).
 */
const RATE = numberKnob("BENCH_LATENCY_RATE", 500);
const DURATION_S = numberKnob("BENCH_DURATION_S", 60);
const WARMUP_S = numberKnob("BENCH_WARMUP_S", 10);
const ENDPOINTS = numberKnob("BENCH_LATENCY_ENDPOINTS", 10);
const PAYLOAD_BYTES = numberKnob("BENCH_PAYLOAD_BYTES", 1024);
/**
 * The router's work signals wake the sender for a delivery partition at once; the end-offset poll
 * is only their safety net. Unset, the service's default is measured, as it runs in production.
 */
const END_OFFSET_POLL_MS = process.env.BENCH_LATENCY_END_OFFSET_POLL_MS ? numberKnob("BENCH_LATENCY_END_OFFSET_POLL_MS", 0) : null;
const TARGET_P99_MS = 100;

describe("latency", () => {
  test(`${RATE} events/s over ${ENDPOINTS} endpoints, ${DURATION_S} s after ${WARMUP_S} s warm-up`, { timeout: 3_600_000 }, async () => {
    const loadAverageAtStart = loadAverage();
    const env: Record<string, string> = END_OFFSET_POLL_MS === null ? {} : { SENDER_END_OFFSET_POLL_MS: String(END_OFFSET_POLL_MS) };
    const figures = await withBenchDispatcher({ endpoints: ENDPOINTS, env }, (dispatcher) =>
      pacedRun(dispatcher, {
        eventsPerSecond: RATE,
        warmupS: WARMUP_S,
        durationS: DURATION_S,
        reasonBytes: (decisionDataOfSize(PAYLOAD_BYTES).reason as string).length,
      }),
    );
    const measured = figures.window.default!;
    writeResults("latency", {
      machine: machine(),
      date: new Date().toISOString(),
      loadAverageAtStart,
      loadAverageAfter: loadAverage(),
      configuration: {
        eventsPerSecond: RATE,
        durationS: DURATION_S,
        warmupS: WARMUP_S,
        endpoints: ENDPOINTS,
        endpointsPerOrganization: 1,
        maxInFlight: 20,
        payloadBytes: PAYLOAD_BYTES,
        senderEndOffsetPollMs: END_OFFSET_POLL_MS,
        pipeline: "test pipeline settings (test/support/pipeline.ts): SENDER_COMMIT_INTERVAL_MS 100, 3 partitions per shared topic, 1 per delivery topic",
      },
      generator: figures.generator,
      deliveriesCreatedInWindow: measured.deliveries,
      latencyMs: measured.latencyMs,
      targets: { p99Ms: `< ${TARGET_P99_MS}` },
    });
    printTable("latency, event creation to receipt (bench/results/latency.json)", [
      { figure: "sender end-offset poll, ms", measured: END_OFFSET_POLL_MS ?? "service default (work signals)" },
      { figure: "events/s generated (asked)", measured: `${figures.generator.eventsPerSecond} (${RATE})` },
      { figure: "generator max behind schedule, ms", measured: figures.generator.maxBehindMs },
      { figure: "deliveries created in window", measured: measured.deliveries },
      { figure: "p50 ms", measured: measured.latencyMs.p50 },
      { figure: "p95 ms", measured: measured.latencyMs.p95 },
      { figure: "p99 ms", measured: measured.latencyMs.p99, target: `< ${TARGET_P99_MS}` },
      { figure: "max ms", measured: measured.latencyMs.max },
    ]);
  });
});
