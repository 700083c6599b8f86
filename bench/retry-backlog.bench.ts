import { describe, expect, test } from "vitest";
import { parseRetrySchedule, retryLatenessBoundMs, topicNames } from "@novatrade/domain";
import type { DeliveryOutcomeRecord } from "@novatrade/event-codec";
import { withBenchDispatcher, type BenchDispatcher } from "./support/dispatcher.js";
import { numberKnob } from "./support/knobs.js";
import { loadAverage, rssMiB } from "./support/process-stats.js";
import { machine, printTable, writeResults } from "./support/results.js";
import { waitUntil } from "../test/support/wait-until.js";

/**
 * Issue 7, retry backlog: N deliveries waiting in a retry tier at once. The receiver refuses
 * every first attempt (500) and accepts the second; the backlog is published before the
 * services start, so the first attempts run as fast as the dispatcher can and their retries pile
 * up in the tier while they wait for their delay. Reported: the sender's RSS while it holds the
 * backlog (sampled each second: at the most deliveries waiting, and the most overall), how late
 * each retry ran against its due time (the FAILED_RETRYING outcome's nextAttemptAt; outcomes
 * read after the run, so decoding them takes no CPU from the sender while it is measured).
 * Every delivery must succeed. Writes bench/results/retry-backlog.json.
 *
 * Knobs: BENCH_RETRY_BACKLOG (deliveries, default 100000), BENCH_RETRY_DELAY (the tier's delay,
 * default 5m: longer than it takes to fill the tier, so the whole backlog waits at once),
 * BENCH_RETRY_BACKLOG_ENDPOINTS (default 100, an organization each).
 */
const DELIVERIES = numberKnob("BENCH_RETRY_BACKLOG", 100_000);
const ENDPOINTS = numberKnob("BENCH_RETRY_BACKLOG_ENDPOINTS", 100);
const DELAY = process.env.BENCH_RETRY_DELAY?.trim() || "5m";
const DELAY_MS = parseRetrySchedule(DELAY, "BENCH_RETRY_DELAY")[0]!;
const TARGET_RSS_MB = 300;
/** 300 MB in the MiB that /proc reports. */
const TARGET_RSS = `< ${TARGET_RSS_MB} MB (${Math.floor((TARGET_RSS_MB * 1e6) / 2 ** 20)} MiB)`;
const SAMPLE_INTERVAL_MS = 1_000;

interface Sample {
  at: number;
  senderRssMiB: number;
  /** First attempts refused minus deliveries succeeded: what waits in the tier. */
  waiting: number;
}

/** Every outcome the sender wrote, decoded in the bench process once the run is over. */
async function readOutcomes(dispatcher: BenchDispatcher, atLeast: number): Promise<DeliveryOutcomeRecord[]> {
  const { pipeline } = dispatcher;
  const list: DeliveryOutcomeRecord[] = [];
  const consumer = pipeline.kafka.createConsumer({
    groupId: `${pipeline.prefix}bench-outcomes`,
    topics: [topicNames(pipeline.naming).deliveryOutcome],
    fromBeginning: true,
  });
  try {
    await consumer.run({
      eachMessage: async (message) => {
        if (message.value) list.push(await pipeline.records.decode("delivery-outcome", message.value));
      },
    });
    await waitUntil(() => list.length >= atLeast, { what: `${atLeast} outcomes read`, timeoutMs: 600_000, intervalMs: 500 });
    return list;
  } finally {
    await consumer.disconnect();
  }
}

function percentiles(sorted: number[]) {
  const at = (share: number) => sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] ?? null;
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? null, min: sorted[0] ?? null };
}

describe("retry backlog", () => {
  test(`${DELIVERIES} deliveries waiting in a ${DELAY} retry tier`, { timeout: 4 * 3_600_000 }, async () => {
    const loadAverageAtStart = loadAverage();
    const figures = await withBenchDispatcher(
      { endpoints: ENDPOINTS, retrySchedule: DELAY, url: (receiver) => receiver.urlFor("fail-first", "retried") },
      async (dispatcher) => {
        const publishStarted = performance.now();
        await dispatcher.publishSpread(DELIVERIES);
        const publishSeconds = (performance.now() - publishStarted) / 1000;
        const { sender } = await dispatcher.startServices();
        const startedAt = Date.now();
        const samples: Sample[] = [];
        let filledAt: number | null = null;
        await waitUntil(
          async () => {
            const stats = await dispatcher.receiver.stats();
            samples.push({ at: Date.now(), senderRssMiB: rssMiB(sender.pid), waiting: stats.refused - stats.unique });
            if (filledAt === null && stats.refused >= DELIVERIES) filledAt = Date.now();
            return stats.unique >= DELIVERIES;
          },
          { what: `${DELIVERIES} deliveries succeeded`, timeoutMs: DELAY_MS + 3_600_000, intervalMs: SAMPLE_INTERVAL_MS },
        );
        const finishedAt = Date.now();
        const stats = await dispatcher.receiver.stats();
        const outcomes = await readOutcomes(dispatcher, 2 * DELIVERIES);
        const dueAt = new Map(outcomes.filter((outcome) => outcome.result === "FAILED_RETRYING").map((outcome) => [`${outcome.endpointId}/${outcome.eventId}`, outcome.nextAttemptAt!]));
        const lateness = outcomes
          .filter((outcome) => outcome.result === "SUCCEEDED" && dueAt.has(`${outcome.endpointId}/${outcome.eventId}`))
          .map((outcome) => outcome.attemptedAt - dueAt.get(`${outcome.endpointId}/${outcome.eventId}`)!)
          .sort((a, b) => a - b);
        const mostWaiting = Math.max(...samples.map((sample) => sample.waiting));
        // While the most deliveries wait: the first sample still holds the garbage of the first
        // attempts' burst; the later ones show what holding the backlog costs once that is collected.
        const holding = samples.filter((sample) => sample.waiting === mostWaiting).map((sample) => sample.senderRssMiB);
        return {
          publishEventsPerSecond: Math.round(DELIVERIES / publishSeconds),
          secondsToFillTheTier: filledAt === null ? null : Number(((filledAt - startedAt) / 1000).toFixed(1)),
          secondsToFinish: Number(((finishedAt - startedAt) / 1000).toFixed(1)),
          mostWaitingAtOnce: mostWaiting,
          secondsHoldingTheMostWaiting: Number(((holding.length * SAMPLE_INTERVAL_MS) / 1000).toFixed(0)),
          senderRssMiBWhileHoldingTheMost: { first: holding[0]!, last: holding.at(-1)!, min: Math.min(...holding), max: Math.max(...holding) },
          senderRssMiBMax: Math.max(...samples.map((sample) => sample.senderRssMiB)),
          senderRssMiBAfter: rssMiB(sender.pid),
          firstAttemptsRefused: stats.refused,
          deliveriesSucceeded: stats.unique,
          requestsAnswered2xx: stats.total,
          retriesMeasured: lateness.length,
          latenessMs: percentiles(lateness),
          latenessBoundMs: retryLatenessBoundMs(DELAY_MS),
          rssSamples: samples.filter((_, index) => index % 10 === 0).map((sample) => ({ s: Math.round((sample.at - startedAt) / 1000), rssMiB: sample.senderRssMiB, waiting: sample.waiting })),
        };
      },
    );
    writeResults("retry-backlog", {
      machine: machine(),
      date: new Date().toISOString(),
      loadAverageAtStart,
      loadAverageAfter: loadAverage(),
      configuration: {
        deliveries: DELIVERIES,
        endpoints: ENDPOINTS,
        endpointsPerOrganization: 1,
        maxInFlight: 20,
        retrySchedule: DELAY,
        receiver: "500 to every first attempt, 200 to the second",
        pipeline: "test pipeline settings (test/support/pipeline.ts), SENDER_GLOBAL_MAX_IN_FLIGHT 500, SENDER_RETRY_JITTER_RATIO default (0.005); backlog published before the services start",
      },
      ...figures,
      targets: { senderRss: TARGET_RSS, latenessP99Ms: `< ${DELAY_MS / 100} (1 % of the delay)` },
    });
    printTable("retry backlog (bench/results/retry-backlog.json)", [
      { figure: "deliveries (retry delay)", measured: `${DELIVERIES} (${DELAY})` },
      { figure: "most waiting in the tier at once", measured: figures.mostWaitingAtOnce },
      { figure: "seconds to fill the tier", measured: figures.secondsToFillTheTier },
      { figure: "sender RSS MiB holding them: first, last", measured: `${figures.senderRssMiBWhileHoldingTheMost.first}, ${figures.senderRssMiBWhileHoldingTheMost.last}`, target: TARGET_RSS },
      { figure: "sender RSS MiB, max over the run", measured: figures.senderRssMiBMax, target: TARGET_RSS },
      { figure: "lateness p50 ms", measured: figures.latenessMs.p50 },
      { figure: "lateness p99 ms", measured: figures.latenessMs.p99, target: `< ${DELAY_MS / 100}` },
      { figure: "lateness max ms (min)", measured: `${figures.latenessMs.max} (${figures.latenessMs.min})` },
      { figure: "deliveries succeeded", measured: figures.deliveriesSucceeded, target: `${DELIVERIES}` },
    ]);
    expect(figures.deliveriesSucceeded).toBe(DELIVERIES);
    // At least once: a re-read can add a duplicate attempt, never lose one.
    expect(figures.retriesMeasured).toBeGreaterThanOrEqual(DELIVERIES);
  });
});
