import { describe, test } from "vitest";
import { decisionDataOfSize, withBenchDispatcher, type BenchDispatcherOptions } from "./support/dispatcher.js";
import { numberKnob, sleepUntil } from "./support/knobs.js";
import { brokerPid, cpuSeconds, loadAverage } from "./support/process-stats.js";
import { machine, printTable, writeResults } from "./support/results.js";
import { waitUntil } from "../test/support/wait-until.js";

/**
 * Issue 7, throughput: deliveries/s sustained over a measured window after a warm-up, router and
 * sender as real processes, the receiver in a process of its own answering 200 at once.
 * A backlog is published to the domain topic before the services start, sized to outlast the
 * window at the target rate (if it drains before the window ends, the figure says so: the rate
 * is then over the part of the window that had work). Writes bench/results/throughput.json.
 *
 * Knobs: BENCH_DURATION_S (measured window, default 60), BENCH_WARMUP_S (default 10, counted
 * from the first delivery), BENCH_THROUGHPUT_ENDPOINTS (default 100),
 * BENCH_THROUGHPUT_ENDPOINTS_PER_ORGANIZATION (default 10: each event fans out to 10 endpoints,
 * so the backlog costs a tenth of the events to publish), BENCH_PAYLOAD_BYTES (default 1024).
 */
const DURATION_S = numberKnob("BENCH_DURATION_S", 60);
const WARMUP_S = numberKnob("BENCH_WARMUP_S", 10);
const ENDPOINTS = numberKnob("BENCH_THROUGHPUT_ENDPOINTS", 100);
const PER_ORGANIZATION = numberKnob("BENCH_THROUGHPUT_ENDPOINTS_PER_ORGANIZATION", 10);
const PAYLOAD_BYTES = numberKnob("BENCH_PAYLOAD_BYTES", 1024);
/** The backlog holds this much more than the target rate needs over warm-up and window. */
const BACKLOG_MARGIN = 1.25;

const results: Record<string, unknown> = {
  machine: machine(),
  date: new Date().toISOString(),
  loadAverageAtStart: loadAverage(),
  configuration: {
    durationS: DURATION_S,
    warmupS: WARMUP_S,
    payloadBytes: PAYLOAD_BYTES,
    pipeline:
      "test pipeline settings (test/support/pipeline.ts): 3 partitions per shared topic, 1 per delivery topic, SENDER_GLOBAL_MAX_IN_FLIGHT 500, SENDER_ORGANIZATION_MAX_IN_FLIGHT default (250); backlog published before the services start",
  },
  runs: {} as Record<string, unknown>,
};

interface ThroughputRun {
  label: string;
  endpoints: number;
  endpointsPerOrganization: number;
  maxInFlight: number;
  targetDeliveriesPerSecond: number;
}

async function measure(run: ThroughputRun): Promise<Record<string, unknown>> {
  const deliveriesPerEvent = Math.min(run.endpointsPerOrganization, run.endpoints);
  const events = Math.ceil((run.targetDeliveriesPerSecond * (WARMUP_S + DURATION_S) * BACKLOG_MARGIN) / deliveriesPerEvent);
  const options: BenchDispatcherOptions = { endpoints: run.endpoints, endpointsPerOrganization: run.endpointsPerOrganization, maxInFlight: run.maxInFlight };
  return withBenchDispatcher(options, async (dispatcher) => {
    const publishStarted = performance.now();
    await dispatcher.publishSpread(events, decisionDataOfSize(PAYLOAD_BYTES));
    const publishSeconds = (performance.now() - publishStarted) / 1000;
    const servicesStartedAt = Date.now();
    const { router, sender } = await dispatcher.startServices();
    const first = await waitUntil(async () => (await dispatcher.receiver.stats()).firstAt ?? undefined, { what: "the first delivery", timeoutMs: 300_000, intervalMs: 100 });
    const windowStart = first + WARMUP_S * 1000;
    const windowEnd = windowStart + DURATION_S * 1000;
    await sleepUntil(windowStart);
    const broker = brokerPid();
    const cpuBefore = { sender: cpuSeconds(sender.pid), router: cpuSeconds(router.pid), broker: cpuSeconds(broker), receiver: cpuSeconds(dispatcher.receiver.pid) };
    await sleepUntil(windowEnd);
    const cpuShare = (pid: number, before: number) => Number((((cpuSeconds(pid) - before) / DURATION_S) * 100).toFixed(1));
    const cpuPercentOfOneCore = {
      sender: cpuShare(sender.pid, cpuBefore.sender),
      router: cpuShare(router.pid, cpuBefore.router),
      broker: cpuShare(broker, cpuBefore.broker),
      receiver: cpuShare(dispatcher.receiver.pid, cpuBefore.receiver),
    };
    const window = Object.values(await dispatcher.receiver.summary("arrival", windowStart, windowEnd));
    const inWindow = window.reduce((sum, group) => sum + group.deliveries, 0);
    const lastInWindow = Math.max(...window.map((group) => group.lastArrivalAt));
    const stats = await dispatcher.receiver.stats();
    const expected = events * deliveriesPerEvent;
    // Drained before the window ended: the rate is over the part of the window that had work.
    const drainedEarly = stats.total >= expected && lastInWindow < windowEnd - 1000;
    const seconds = drainedEarly ? (lastInWindow - windowStart) / 1000 : DURATION_S;
    return {
      endpoints: run.endpoints,
      endpointsPerOrganization: run.endpointsPerOrganization,
      maxInFlight: run.maxInFlight,
      backlogEvents: events,
      backlogDeliveries: expected,
      publishEventsPerSecond: Math.round(events / publishSeconds),
      secondsFromServiceStartToFirstDelivery: Number(((first - servicesStartedAt) / 1000).toFixed(2)),
      deliveriesInWindow: inWindow,
      windowSeconds: Number(seconds.toFixed(2)),
      backlogDrainedBeforeWindowEnd: drainedEarly,
      deliveriesPerSecond: Math.round(inWindow / seconds),
      targetDeliveriesPerSecond: run.targetDeliveriesPerSecond,
      cpuPercentOfOneCoreInWindow: cpuPercentOfOneCore,
      loadAverageAfter: loadAverage(),
    };
  });
}

describe("throughput", () => {
  const runs: ThroughputRun[] = [
    { label: "manyEndpoints", endpoints: ENDPOINTS, endpointsPerOrganization: PER_ORGANIZATION, maxInFlight: 20, targetDeliveriesPerSecond: 5_000 },
    { label: "oneEndpoint", endpoints: 1, endpointsPerOrganization: 1, maxInFlight: 50, targetDeliveriesPerSecond: 2_000 },
  ];
  for (const run of runs) {
    test(`${run.label}: ${run.endpoints} endpoint(s), maxInFlight ${run.maxInFlight}, ${DURATION_S} s after ${WARMUP_S} s warm-up`, { timeout: 3_600_000 }, async () => {
      const figures = await measure(run);
      (results.runs as Record<string, unknown>)[run.label] = figures;
      writeResults("throughput", results);
      printTable(`throughput, ${run.label} (bench/results/throughput.json)`, [
        { figure: "endpoints (per organization)", measured: `${run.endpoints} (${run.endpointsPerOrganization})` },
        { figure: "maxInFlight per endpoint", measured: run.maxInFlight },
        { figure: "deliveries in window", measured: figures.deliveriesInWindow as number },
        { figure: `deliveries/s over ${figures.windowSeconds} s`, measured: figures.deliveriesPerSecond as number, target: `>= ${run.targetDeliveriesPerSecond}` },
        { figure: "backlog drained before window end", measured: String(figures.backlogDrainedBeforeWindowEnd) },
        { figure: "CPU % of a core: sender/router/broker/receiver", measured: Object.values(figures.cpuPercentOfOneCoreInWindow as object).join(" / ") },
      ]);
    });
  }
});
