import { describe, test } from "vitest";
import { deliveryTopic, topicNames } from "@novatrade/domain";
import { waitUntil } from "../test/support/wait-until.js";
import { decisionDataOfSize, withBenchDispatcher, type BenchDispatcher } from "./support/dispatcher.js";
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
    const figures = await withBenchDispatcher({ endpoints: ENDPOINTS, env }, async (dispatcher) => {
      const run = await pacedRun(dispatcher, {
        eventsPerSecond: RATE,
        warmupS: WARMUP_S,
        durationS: DURATION_S,
        reasonBytes: (decisionDataOfSize(PAYLOAD_BYTES).reason as string).length,
      });
      return { ...run, hops: await latencyHops(dispatcher, run.windowMs) };
    });
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
      hopsMs: figures.hops,
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
      ...Object.entries(figures.hops.hops).map(([hop, p]) => ({ figure: `  ${hop}: p50 / p99 / max ms`, measured: `${p.p50} / ${p.p99} / ${p.max}` })),
    ]);
  });
});

/**
 * Where the time goes, per delivery of the events created after the warm-up: creation → the
 * router's write to the endpoint's delivery topic (the record's timestamp, set by the router's
 * producer), that write → the sender's attempt start (the outcome's attemptedAt), and creation →
 * attempt start. The receipt itself is measured by the receiver (the figures above).
 */
async function latencyHops(dispatcher: BenchDispatcher, window: { start: number; end: number }) {
  const { pipeline, endpoints } = dispatcher;
  const routed = new Map<string, { createdAt: number; writtenAt: number }>();
  const attemptStarted = new Map<string, number>();
  const readers = [
    pipeline.kafka.createConsumer({ groupId: `${pipeline.prefix}bench-hops-delivery`, topics: endpoints.map((endpoint) => deliveryTopic(pipeline.naming, endpoint.endpointId)), fromBeginning: true }),
    pipeline.kafka.createConsumer({ groupId: `${pipeline.prefix}bench-hops-outcomes`, topics: [topicNames(pipeline.naming).deliveryOutcome], fromBeginning: true }),
  ] as const;
  try {
    await readers[0].run({
      eachMessage: async (message) => {
        if (!message.value) return;
        const request = await pipeline.records.decode("delivery-request", message.value);
        const createdAt = Date.parse((JSON.parse(request.body) as { createdAt: string }).createdAt);
        routed.set(request.deliveryId, { createdAt, writtenAt: message.timestamp });
      },
    });
    await readers[1].run({
      eachMessage: async (message) => {
        if (!message.value) return;
        const outcome = await pipeline.records.decode("delivery-outcome", message.value);
        if (outcome.attempt === 1) attemptStarted.set(outcome.deliveryId, outcome.attemptedAt);
      },
    });
    await waitUntil(() => routed.size > 0 && [...routed.keys()].every((id) => attemptStarted.has(id)), { what: "every delivery's request and outcome read", timeoutMs: 600_000, intervalMs: 500 });
  } finally {
    await Promise.all(readers.map((reader) => reader.disconnect()));
  }
  const measured = [...routed].filter(([, { createdAt }]) => createdAt >= window.start && createdAt < window.end);
  const percentilesOf = (values: number[]) => {
    const sorted = values.sort((a, b) => a - b);
    const at = (share: number) => sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] ?? null;
    return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? null };
  };
  return {
    deliveries: measured.length,
    hops: {
      "created → routed (written to the delivery topic)": percentilesOf(measured.map(([, { createdAt, writtenAt }]) => writtenAt - createdAt)),
      "routed → attempt started (sender read)": percentilesOf(measured.map(([id, { writtenAt }]) => attemptStarted.get(id)! - writtenAt)),
      "created → attempt started": percentilesOf(measured.map(([id, { createdAt }]) => attemptStarted.get(id)! - createdAt)),
    },
  };
}
