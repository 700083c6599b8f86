import { cpus, totalmem } from "node:os";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, test } from "vitest";
import { retryLatenessBoundMs } from "@novatrade/domain";
import { sampleEvent } from "@novatrade/event-codec";
import { deliveryTopicSpec } from "@novatrade/endpoint-config";
import { startPipeline, type Pipeline } from "../test/support/pipeline.js";
import { startReceiver, type Receiver } from "../test/support/receiver.js";
import { cpuSeconds } from "./support/process-stats.js";
import { startServiceProcess, type ServiceProcess } from "../test/support/service-process.js";
import { waitUntil } from "../test/support/wait-until.js";

/**
 * Throughput of the whole dispatcher on this machine: router and sender as real processes,
 * the real broker and registry, receivers on loopback answering 200 at once. Figures are
 * printed and written to bench/results/; nothing here asserts a timing.
 *
 * CPU ms per delivery (router and sender, from /proc/<pid>/stat, from each one's start to the
 * last delivery) is the figure to compare on a shared machine: deliveries/s swings with the
 * load, the CPU a delivery costs much less. BENCH_PIPELINE_EVENTS_SCALE (default 1) multiplies
 * the events of the throughput runs (0.2 for a quick run); BENCH_CPU_PROF_DIR=<dir> runs router
 * and sender under `node --cpu-prof` (profiles in <dir>/<run>/<service>/; summarise them with
 * `node bench/cpuprofile-summary.mjs <file>`), and stops them with SIGTERM so the profiles are
 * written.
 */
const EVENTS_SCALE = Number(process.env.BENCH_PIPELINE_EVENTS_SCALE ?? 1);
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF_DIR;

/** BENCH_NODE_ARGS: node flags for router and sender (space-separated), e.g. to try V8 heap settings. */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter((arg) => arg !== "");

function nodeArgs(run: string, service: string): string[] {
  return [...NODE_ARGS, ...(CPU_PROF_DIR ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(CPU_PROF_DIR, run, service)}`] : [])];
}

const results: Record<string, unknown> = {
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  date: new Date().toISOString(),
};

async function publishMany(pipeline: Pipeline, count: number): Promise<number> {
  const data = sampleEvent("compliance.decision_made").data;
  const started = performance.now();
  await pipeline.publishMany(count, { type: "compliance.decision_made", data });
  return (performance.now() - started) / 1000;
}

describe("pipeline throughput", () => {
  const processes: ServiceProcess[] = [];
  const pipelines: Pipeline[] = [];
  const receivers: Receiver[] = [];

  afterAll(async () => {
    await Promise.all(processes.map((process) => process.kill()));
    for (const pipeline of pipelines) await pipeline.close();
    for (const receiver of receivers) await receiver.close();
    const out = path.join(path.dirname(fileURLToPath(import.meta.url)), "results");
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, "pipeline-throughput.json"), `${JSON.stringify(results, null, 2)}\n`);
    console.log(JSON.stringify(results, null, 2));
  });

  async function run(label: string, endpointCount: number, events: number, env: Record<string, string> = {}) {
    const pipeline = await startPipeline({ env: { SENDER_GLOBAL_MAX_IN_FLIGHT: "500", ...env } });
    pipelines.push(pipeline);
    const endpointReceivers = await Promise.all(Array.from({ length: endpointCount }, () => startReceiver()));
    receivers.push(...endpointReceivers);
    for (const receiver of endpointReceivers) {
      await pipeline.addEndpoint({ url: receiver.url, eventTypes: ["compliance.*"], maxInFlight: 20 });
    }
    const publishSeconds = await publishMany(pipeline, events);
    const started = performance.now();
    const router = await startServiceProcess("router", pipeline.env, undefined, nodeArgs(label, "router"));
    const routerCpuAtStart = cpuSeconds(router.pid);
    const sender = await startServiceProcess("sender", pipeline.env, undefined, nodeArgs(label, "sender"));
    const senderCpuAtStart = cpuSeconds(sender.pid);
    processes.push(router, sender);
    const expected = events * endpointCount;
    const total = () => endpointReceivers.reduce((sum, receiver) => sum + receiver.requests.length, 0);
    await waitUntil(() => total() >= expected, { timeoutMs: 600_000, intervalMs: 100, what: `${expected} deliveries` });
    const seconds = (performance.now() - started) / 1000;
    const cpuMsPerDelivery = (pid: number, atStart: number) => Number((((cpuSeconds(pid) - atStart) * 1000) / total()).toFixed(3));
    results[label] = {
      endpoints: endpointCount,
      events,
      deliveries: total(),
      publishEventsPerSecond: Math.round(events / publishSeconds),
      secondsFromServiceStartToLastDelivery: Number(seconds.toFixed(2)),
      deliveriesPerSecond: Math.round(total() / seconds),
      cpuMsPerDelivery: { router: cpuMsPerDelivery(router.pid, routerCpuAtStart), sender: cpuMsPerDelivery(sender.pid, senderCpuAtStart) },
    };
    console.log(label, results[label]);
    await Promise.all([router, sender].map((service) => (CPU_PROF_DIR ? service.stop() : service.kill())));
  }

  test("one endpoint, 5000 events (backlog drained from a cold start)", async () => {
    await run("oneEndpoint", 1, Math.round(5_000 * EVENTS_SCALE));
  });

  test("20 endpoints, 500 events each fanned out (10000 deliveries)", async () => {
    await run("fanOut20", 20, Math.round(500 * EVENTS_SCALE));
  });

  test("retry lateness: 1000 retries, paced, on a 10 s tier (issue 6 item 8)", async () => {
    const delayMs = 10_000;
    const events = 1_000;
    const pipeline = await startPipeline({ retrySchedule: `${delayMs / 1000}s` });
    pipelines.push(pipeline);
    // Every first attempt fails, every second one succeeds.
    const receiver = await startReceiver((request) => (request.headers["x-novatrade-attempt"] === "1" ? { status: 500 } : { status: 200 }));
    receivers.push(receiver);
    await pipeline.addEndpoint({ url: receiver.url, eventTypes: ["compliance.*"], maxInFlight: 20 });
    const router = await startServiceProcess("router", pipeline.env);
    const sender = await startServiceProcess("sender", pipeline.env);
    processes.push(router, sender);
    // Paced at about 100 events/s, well within one endpoint's capacity: what is measured is how
    // late the retry tier lets a retry start, not how long a burst queues for its endpoint.
    for (let published = 0; published < events; published += 50) {
      await publishMany(pipeline, 50);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const outcomes = await pipeline.outcomes.waitFor((list) => list.filter((outcome) => outcome.result === "SUCCEEDED").length >= events, `${events} retries`, 600_000);
    const dueAt = new Map(outcomes.filter((outcome) => outcome.result === "FAILED_RETRYING").map((outcome) => [outcome.eventId, outcome.nextAttemptAt!]));
    const lateness = outcomes
      .filter((outcome) => outcome.result === "SUCCEEDED")
      .map((outcome) => outcome.attemptedAt - dueAt.get(outcome.eventId)!)
      .sort((a, b) => a - b);
    const at = (share: number) => lateness[Math.min(lateness.length - 1, Math.floor(share * lateness.length))]!;
    results.retryLateness = {
      delayMs,
      retries: lateness.length,
      boundMs: retryLatenessBoundMs(delayMs),
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: lateness.at(-1),
      // Due times early (negative) would be a bug: a retry attempted before it was due.
      minMs: lateness[0],
    };
    console.log("retry lateness", results.retryLateness);
    await Promise.all([router.kill(), sender.kill()]);
  });

  test("topic count: sender start-up and new-endpoint pickup with many delivery topics", async () => {
    const measurements: Array<Record<string, number>> = [];
    for (const topicCount of [10, 300]) {
      const pipeline = await startPipeline();
      pipelines.push(pipeline);
      const options = { naming: pipeline.naming, deliveryTopicPartitions: 1 };
      const createStarted = performance.now();
      for (let created = 0; created < topicCount; created += 50) {
        await pipeline.kafka.admin.ensureTopics(
          Array.from({ length: Math.min(50, topicCount - created) }, (_, index) => deliveryTopicSpec(options, `bench_${created + index}`)),
        );
      }
      const createSeconds = (performance.now() - createStarted) / 1000;
      const startStarted = performance.now();
      const sender = await startServiceProcess("sender", pipeline.env);
      const router = await startServiceProcess("router", pipeline.env);
      processes.push(sender, router);
      const senderStartSeconds = (performance.now() - startStarted) / 1000;
      // A new endpoint: its topic is created, the sender's subscription refreshes (a rebalance).
      const receiver = await startReceiver();
      receivers.push(receiver);
      const addStarted = performance.now();
      await pipeline.addEndpoint({ url: receiver.url, eventTypes: ["compliance.*"] });
      await pipeline.publish({ type: "compliance.decision_made", data: sampleEvent("compliance.decision_made").data });
      await receiver.waitForRequests(1, 120_000);
      measurements.push({
        deliveryTopics: topicCount,
        secondsToCreateTopics: Number(createSeconds.toFixed(2)),
        secondsToStartSenderAndRouter: Number(senderStartSeconds.toFixed(2)),
        secondsFromNewEndpointToFirstDelivery: Number(((performance.now() - addStarted) / 1000).toFixed(2)),
      });
      await Promise.all([sender.kill(), router.kill()]);
    }
    results.topicCount = measurements;
    console.log("topic count", measurements);
  });
});
