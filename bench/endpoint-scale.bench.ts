import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, test } from "vitest";
import { randomUUID } from "node:crypto";
import { sampleEvent } from "@novatrade/event-codec";
import { topicNames } from "@novatrade/domain";
import { deletePipelineTopics, registerManyEndpoints } from "../test/support/many-endpoints.js";
import { startPipeline, type Pipeline } from "../test/support/pipeline.js";
import { freePort } from "../test/support/process-tree.js";
import { startServiceProcess, type ServiceProcess } from "../test/support/service-process.js";
import { waitUntil } from "../test/support/wait-until.js";
import { publishSpread } from "./support/dispatcher.js";
import { PRODUCTION_END_OFFSET_POLL, PRODUCTION_TOPIC_REFRESH, benchResults, percent, seconds } from "./support/endpoint-scale-harness.js";
import { brokerPid, cpuSeconds, rssMiB, scrapeMetrics, sumOf } from "./support/process-stats.js";
import { startReceiverProcess, type ReceiverProcess } from "./support/receiver-process.js";

/**
 * Issue 7, endpoint scale: N endpoints in N organizations, one delivery topic each, events
 * spread over them; router and sender as real processes, the receiver in a process of its own.
 * Per N: deliveries/s (after the first delivery), new endpoint → first delivery, CPU of the
 * sender and the broker while every endpoint is idle, memory. Printed and written to
 * bench/results/endpoint-scale.json; nothing here asserts a timing.
 *
 * BENCH_ENDPOINT_SCALE=10,1000 (default 10,1000,5000,10000) picks the sizes;
 * BENCH_ENDPOINT_SCALE_EVENTS (default 6000) the events; BENCH_IDLE_WINDOW_MS (default 10000)
 * how long idle CPU is measured; BENCH_IDLE_ONLY=1 stops each size after the idle window (for
 * profiling it: the sender stops right after it, and nothing is written to the results file, as
 * the run is not the whole scenario); BENCH_SESSION_TIMEOUT_MS sets the services'
 * KAFKA_SESSION_TIMEOUT_MS (default: the test pipeline's 6 s; production's is 30 s, and each
 * idle group heartbeats every tenth of it). BENCH_CPU_PROF_DIR=<dir> runs the sender and the router with `node --cpu-prof`
 * and stops them with SIGTERM (the profile is written at exit) instead of SIGKILL.
 * BENCH_SERVICE_LOG_DIR=<dir> writes the sender's and router's logs there (`<N>-sender.log`).
 *
 * Then, per N, new endpoints while events flow: BENCH_ADD_ENDPOINTS (default 100; 0 skips it)
 * endpoints registered one after the other (topic, then configuration, as the admin API does)
 * while BENCH_STEADY_EVENTS_PER_SECOND (default 100) events a second go to the existing ones.
 * Reported: the longest gap between two deliveries to the existing endpoints while the new ones
 * are picked up (a stall: a rebalance stops every partition of the group it happens in), the
 * same for as long a window just before (what the machine's noise alone gives), and each new
 * endpoint's time from its registration to its first delivery.
 */
const SIZES = (process.env.BENCH_ENDPOINT_SCALE ?? "10,1000,5000,10000").split(",").map((size) => Number(size.trim()));
const EVENTS = Number(process.env.BENCH_ENDPOINT_SCALE_EVENTS ?? 6_000);
const IDLE_WINDOW_MS = Number(process.env.BENCH_IDLE_WINDOW_MS ?? 10_000);
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF_DIR;
const ADD_ENDPOINTS = Number(process.env.BENCH_ADD_ENDPOINTS ?? 100);
const STEADY_EVENTS_PER_SECOND = Number(process.env.BENCH_STEADY_EVENTS_PER_SECOND ?? 100);
const IDLE_ONLY = process.env.BENCH_IDLE_ONLY === "1";
/** Where the sender's and router's logs are written (`<N>-sender.log`), if set. */
const LOG_DIR = process.env.BENCH_SERVICE_LOG_DIR;
const SESSION_TIMEOUT: Record<string, string> = process.env.BENCH_SESSION_TIMEOUT_MS ? { KAFKA_SESSION_TIMEOUT_MS: process.env.BENCH_SESSION_TIMEOUT_MS } : {};
const data = sampleEvent("compliance.decision_made").data;

const results = benchResults("endpoint-scale", {
  events: EVENTS,
  idleWindowMs: IDLE_WINDOW_MS,
  addEndpoints: ADD_ENDPOINTS,
  steadyEventsPerSecond: STEADY_EVENTS_PER_SECOND,
  pipeline: "test pipeline settings (test/support/pipeline.ts): 3 partitions per shared topic, 1 per delivery topic, session timeout 6 s; sender defaults otherwise (SENDER_DELIVERY_SHARDS 16, SENDER_END_OFFSET_POLL_MS 5000 without and SENDER_END_OFFSET_POLL_SIGNALLED_MS 30000 with the router's work signals); SENDER_TOPIC_REFRESH_MS 30000 (production defaults)",
  shardsOverride: process.env.SENDER_DELIVERY_SHARDS ?? null,
  endOffsetPollOverride: process.env.SENDER_END_OFFSET_POLL_MS ?? null,
  endOffsetPollSignalledOverride: process.env.SENDER_END_OFFSET_POLL_SIGNALLED_MS ?? null,
  sessionTimeoutOverride: process.env.BENCH_SESSION_TIMEOUT_MS ?? null,
});

/** The sender's delivery partitions (every delivery shard group's series), optionally in one work state. */
async function deliveryPartitions(opsPort: number, prefix: string, state?: "active"): Promise<number> {
  const series = (await scrapeMetrics(opsPort)).filter((one) => one.labels.group_id?.startsWith(`${prefix}sender`));
  return sumOf(series, "novatrade_kafka_consumer_work_partitions", state ? { state } : {});
}

/** Kafka requests a service has sent, by client kind and API (`consumer ListOffsets`), from its /metrics. */
async function kafkaRequests(opsPort: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const { name, labels, value } of await scrapeMetrics(opsPort)) {
    if (name !== "novatrade_kafka_request_duration_seconds_count") continue;
    const key = `${labels.component ?? "?"} ${labels.api ?? "?"}`;
    counts.set(key, (counts.get(key) ?? 0) + value);
  }
  return counts;
}

/** Requests a second between two counts, the busiest first; those under 0.05/s left out. */
function requestRates(before: Map<string, number>, after: Map<string, number>, windowSeconds: number): Record<string, number> {
  const rates = [...after].map(([key, count]) => [key, Number(((count - (before.get(key) ?? 0)) / windowSeconds).toFixed(2))] as const);
  return Object.fromEntries(rates.filter(([, rate]) => rate >= 0.05).sort((a, b) => b[1] - a[1]));
}

describe("endpoint scale", () => {
  afterAll(() => (IDLE_ONLY ? console.log("endpoint scale (idle only, not written)", JSON.stringify(results.runs)) : results.write()));

  for (const endpoints of SIZES) {
    test(`${endpoints} endpoints in ${endpoints} organizations`, async () => {
      const senderOpsPort = await freePort();
      const pipeline = await startPipeline({ env: { SENDER_GLOBAL_MAX_IN_FLIGHT: "500", SENDER_OPS_PORT: String(senderOpsPort), ...PRODUCTION_TOPIC_REFRESH, ...PRODUCTION_END_OFFSET_POLL, ...SESSION_TIMEOUT } });
      const receiver = await startReceiverProcess();
      const processes: ServiceProcess[] = [];
      const run: Record<string, unknown> = { endpoints };
      try {
        const createStarted = performance.now();
        const configs = await registerManyEndpoints(pipeline, receiver.url, endpoints);
        run.secondsToCreateTopicsAndEndpoints = seconds(createStarted);

        const startStarted = performance.now();
        const profiling = CPU_PROF_DIR ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(CPU_PROF_DIR)}`] : [];
        const sender = await startServiceProcess("sender", pipeline.env, 600_000, profiling);
        const router = await startServiceProcess("router", pipeline.env, 600_000, profiling);
        processes.push(sender, router);
        run.secondsToStartSenderAndRouter = seconds(startStarted);
        // Every delivery shard group's series (`<prefix>sender.delivery.<i>-of-<k>`, or `<prefix>sender` unsharded).
        await waitUntil(async () => (await deliveryPartitions(senderOpsPort, pipeline.prefix)) >= endpoints, {
          what: `the sender to be assigned ${endpoints} delivery partitions`,
          timeoutMs: 600_000,
          intervalMs: 500,
        });
        run.secondsUntilSenderAssignedAll = seconds(startStarted);

        // Idle: every endpoint without work. CPU of sender and broker over the window.
        await waitUntil(async () => (await deliveryPartitions(senderOpsPort, pipeline.prefix, "active")) === 0, {
          what: "no delivery partition active",
          timeoutMs: 120_000,
          intervalMs: 500,
        });
        const broker = brokerPid();
        const requestsBefore = await kafkaRequests(senderOpsPort);
        const before = { sender: cpuSeconds(sender.pid), broker: cpuSeconds(broker), at: performance.now() };
        // When the window starts, and which processes: to profile them from outside meanwhile.
        console.log(`idle window of ${IDLE_WINDOW_MS} ms starts at ${new Date().toISOString()}: sender pid ${sender.pid}, router pid ${router.pid}, broker pid ${broker}`);
        await new Promise((resolve) => setTimeout(resolve, IDLE_WINDOW_MS));
        const windowSeconds = seconds(before.at);
        run.idleCpuPercentOfOneCore = {
          sender: percent((cpuSeconds(sender.pid) - before.sender) / windowSeconds),
          broker: percent((cpuSeconds(broker) - before.broker) / windowSeconds),
        };
        run.idleRssMiB = { sender: rssMiB(sender.pid), router: rssMiB(router.pid), broker: rssMiB(broker) };
        run.idleSenderKafkaRequestsPerSecond = requestRates(requestsBefore, await kafkaRequests(senderOpsPort), windowSeconds);
        if (IDLE_ONLY) {
          console.log("endpoint scale (idle only)", run);
          return;
        }

        // Throughput: EVENTS events spread over the organizations (one endpoint each).
        const organizations = configs.map((config) => config.organizationUuid);
        const expected = EVENTS;
        const publishStarted = performance.now();
        const publishStartedAt = Date.now();
        await publishSpread(pipeline, organizations, EVENTS);
        run.secondsToPublish = seconds(publishStarted);
        await waitUntil(async () => (await receiver.stats()).total >= expected, { what: `${expected} deliveries`, timeoutMs: 900_000, intervalMs: 250 });
        const stats = await receiver.stats();
        run.deliveries = stats.total;
        run.deliveriesPerSecondAfterFirst = Math.round((stats.total - 1) / (((stats.lastAt ?? 0) - (stats.firstAt ?? 0)) / 1000));
        run.secondsFromPublishStartToLastDelivery = Number((((stats.lastAt ?? 0) - publishStartedAt) / 1000).toFixed(2));
        run.busyRssMiB = { sender: rssMiB(sender.pid), router: rssMiB(router.pid), broker: rssMiB(broker) };

        // A new endpoint: topic created, config written; one event re-sent until one arrives
        // (nothing tells a producer when the router has picked the endpoint up).
        const organization = randomUUID();
        const addStarted = Date.now();
        await pipeline.addEndpoint({ url: receiver.url, eventTypes: ["compliance.*"], organizationUuid: organization });
        let firstAt: number | null = null;
        const sent: string[] = [];
        await waitUntil(
          async () => {
            sent.push(await pipeline.publish({ type: "compliance.decision_made", data, organizationUuid: organization }));
            for (const id of sent) {
              const at = await receiver.receivedAt(id);
              if (at !== null) firstAt = Math.min(firstAt ?? at, at);
            }
            return firstAt !== null;
          },
          { what: "the new endpoint's first delivery", timeoutMs: 300_000, intervalMs: 250 },
        );
        run.secondsFromNewEndpointToFirstDelivery = Number(((firstAt! - addStarted) / 1000).toFixed(2));
        if (ADD_ENDPOINTS > 0) run.addEndpointsDuringTraffic = await addEndpointsDuringTraffic(pipeline, receiver, organizations);
        console.log("endpoint scale", run);
      } finally {
        results.runs.push(run);
        await Promise.all(processes.map((process) => (CPU_PROF_DIR ? process.stop() : process.kill())));
        if (LOG_DIR) for (const process of processes) writeFileSync(path.join(LOG_DIR, `${endpoints}-${process.name}.log`), process.output.join("\n"));
        await receiver.stop();
        run.topicsDeleted = await deletePipelineTopics(pipeline);
        await pipeline.close();
      }
    }, 3_600_000); // 10,000 endpoints and 100 added one by one take longer than the bench project's default
  }
});

/** Publishes about `perSecond` events a second to `organizations`, in turn, until stopped; returns how many. */
function startSteadyTraffic(pipeline: Pipeline, organizations: string[], perSecond: number): { stop(): Promise<number> } {
  const domain = topicNames(pipeline.naming).domain;
  const perTick = Math.max(1, Math.round(perSecond / 10));
  let next = 0;
  let published = 0;
  let inFlight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    inFlight = inFlight.then(async () => {
      const prepared = await Promise.all(
        Array.from({ length: perTick }, () =>
          pipeline.events.prepare({ type: "compliance.decision_made", data, organizationUuid: organizations[next++ % organizations.length]!, source: "WEB_APP", partnerUuid: null }),
        ),
      );
      await pipeline.producer.send(domain, prepared.map(({ key, value, headers }) => ({ key, value, headers })));
      published += prepared.length;
    });
  }, 100);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
      return published;
    },
  };
}

/**
 * New endpoints while events flow to the existing ones (see the file's comment). Each new
 * endpoint gets a receiver path of its own, so its first delivery and the existing endpoints'
 * deliveries (`/hooks`) are told apart.
 */
async function addEndpointsDuringTraffic(pipeline: Pipeline, receiver: ReceiverProcess, organizations: string[]): Promise<Record<string, unknown>> {
  const countAtStart = (await receiver.paths("/hooks"))["/hooks"]?.count ?? 0;
  const steady = startSteadyTraffic(pipeline, organizations, STEADY_EVENTS_PER_SECOND);
  const warmupMs = 11_000;
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  const registrationStart = Date.now();
  const added: Array<{ organizationUuid: string; path: string; registeredAt: number }> = [];
  // One event a second to each new endpoint registered so far without a delivery yet, from the
  // first registration on (the router drops events routed before it knew the endpoint; nothing
  // tells a producer when it does). Not more often: with 100 newcomers waiting, that alone
  // would be more load than the steady traffic.
  const domain = topicNames(pipeline.naming).domain;
  let firstAt: Record<string, { count: number; firstAt: number }> = {};
  let registering = true;
  const probing = waitUntil(
    async () => {
      firstAt = await receiver.paths("/new/");
      const waiting = added.filter(({ path }) => !firstAt[path]);
      if (waiting.length === 0) return !registering;
      const prepared = await Promise.all(
        waiting.map(({ organizationUuid }) => pipeline.events.prepare({ type: "compliance.decision_made", data, organizationUuid, source: "WEB_APP", partnerUuid: null })),
      );
      await pipeline.producer.send(domain, prepared.map(({ key, value, headers }) => ({ key, value, headers })));
      return false;
    },
    { what: `the first delivery to each of ${ADD_ENDPOINTS} new endpoints`, timeoutMs: 900_000, intervalMs: 1_000 },
  );
  for (let index = 0; index < ADD_ENDPOINTS; index++) {
    const path = `/new/${index}`;
    const [config] = await registerManyEndpoints(pipeline, `${receiver.base}${path}`, 1);
    added.push({ organizationUuid: config!.organizationUuid, path, registeredAt: Date.now() });
  }
  registering = false;
  const registrationSeconds = Number(((Date.now() - registrationStart) / 1000).toFixed(2));
  await probing;
  const lastFirstDelivery = Math.max(...added.map(({ path }) => firstAt[path]!.firstAt));
  // A second more of steady traffic after the last newcomer, then stop and let it drain.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const published = await steady.stop();
  const windowEnd = lastFirstDelivery + 1_000;
  await waitUntil(async () => ((await receiver.paths("/hooks"))["/hooks"]?.count ?? 0) - countAtStart >= published, {
    what: `${published} steady deliveries`,
    timeoutMs: 600_000,
    intervalMs: 500,
  });
  const during = await receiver.longestGap("/hooks", registrationStart, windowEnd);
  const beforeWindowMs = Math.min(warmupMs - 1_000, windowEnd - registrationStart);
  const before = await receiver.longestGap("/hooks", registrationStart - beforeWindowMs, registrationStart);
  const toFirst = added.map(({ path, registeredAt }) => Number(((firstAt[path]!.firstAt - registeredAt) / 1000).toFixed(2)));
  const sorted = [...toFirst].sort((a, b) => a - b);
  const at = (share: number) => sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))]!;
  return {
    endpoints: ADD_ENDPOINTS,
    steadyEventsPerSecond: STEADY_EVENTS_PER_SECOND,
    steadyEventsPublished: published,
    secondsToRegisterAll: registrationSeconds,
    longestGapToExistingEndpointsMs: { whileAdding: during.gapMs, beforeAdding: before.gapMs, beforeWindowMs, whileAddingWindowMs: windowEnd - registrationStart },
    secondsFromRegistrationToFirstDelivery: { min: sorted[0], median: at(0.5), p90: at(0.9), max: sorted.at(-1), each: toFirst },
  };
}
