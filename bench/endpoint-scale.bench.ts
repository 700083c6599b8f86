import path from "node:path";
import { afterAll, describe, test } from "vitest";
import { randomUUID } from "node:crypto";
import { sampleEvent } from "@novatrade/event-codec";
import { deletePipelineTopics, registerManyEndpoints } from "../test/support/many-endpoints.js";
import { startPipeline } from "../test/support/pipeline.js";
import { freePort } from "../test/support/process-tree.js";
import { startServiceProcess, type ServiceProcess } from "../test/support/service-process.js";
import { waitUntil } from "../test/support/wait-until.js";
import { publishSpread } from "./support/dispatcher.js";
import { PRODUCTION_TOPIC_REFRESH, benchResults, percent, seconds } from "./support/endpoint-scale-harness.js";
import { brokerPid, cpuSeconds, metric, rssMiB } from "./support/process-stats.js";
import { startReceiverProcess } from "./support/receiver-process.js";

/**
 * Issue 7, endpoint scale: N endpoints in N organizations, one delivery topic each, events
 * spread over them; router and sender as real processes, the receiver in a process of its own.
 * Per N: deliveries/s (after the first delivery), new endpoint → first delivery, CPU of the
 * sender and the broker while every endpoint is idle, memory. Printed and written to
 * bench/results/endpoint-scale.json; nothing here asserts a timing.
 *
 * BENCH_ENDPOINT_SCALE=10,1000 (default 10,1000,5000,10000) picks the sizes;
 * BENCH_ENDPOINT_SCALE_EVENTS (default 6000) the events; BENCH_IDLE_WINDOW_MS (default 10000)
 * how long idle CPU is measured. BENCH_CPU_PROF_DIR=<dir> runs the sender with `node --cpu-prof`
 * and stops it with SIGTERM (the profile is written at exit) instead of SIGKILL.
 */
const SIZES = (process.env.BENCH_ENDPOINT_SCALE ?? "10,1000,5000,10000").split(",").map((size) => Number(size.trim()));
const EVENTS = Number(process.env.BENCH_ENDPOINT_SCALE_EVENTS ?? 6_000);
const IDLE_WINDOW_MS = Number(process.env.BENCH_IDLE_WINDOW_MS ?? 10_000);
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF_DIR;
const data = sampleEvent("compliance.decision_made").data;

const results = benchResults("endpoint-scale", {
  events: EVENTS,
  idleWindowMs: IDLE_WINDOW_MS,
  pipeline: "test pipeline settings (test/support/pipeline.ts): 3 partitions per shared topic, 1 per delivery topic, SENDER_END_OFFSET_POLL_MS 250, session timeout 6 s; SENDER_TOPIC_REFRESH_MS 30000 (production default)",
});

describe("endpoint scale", () => {
  afterAll(() => results.write());

  for (const endpoints of SIZES) {
    test(`${endpoints} endpoints in ${endpoints} organizations`, async () => {
      const senderOpsPort = await freePort();
      const pipeline = await startPipeline({ env: { SENDER_GLOBAL_MAX_IN_FLIGHT: "500", SENDER_OPS_PORT: String(senderOpsPort), ...PRODUCTION_TOPIC_REFRESH } });
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
        const router = await startServiceProcess("router", pipeline.env, 600_000);
        processes.push(sender, router);
        run.secondsToStartSenderAndRouter = seconds(startStarted);
        const group = { group_id: `${pipeline.prefix}sender` };
        await waitUntil(async () => (await metric(senderOpsPort, "novatrade_kafka_consumer_work_partitions", group)) >= endpoints, {
          what: `the sender to be assigned ${endpoints} delivery partitions`,
          timeoutMs: 600_000,
          intervalMs: 500,
        });
        run.secondsUntilSenderAssignedAll = seconds(startStarted);

        // Idle: every endpoint without work. CPU of sender and broker over the window.
        await waitUntil(async () => (await metric(senderOpsPort, "novatrade_kafka_consumer_work_partitions", { ...group, state: "active" })) === 0, {
          what: "no delivery partition active",
          timeoutMs: 120_000,
          intervalMs: 500,
        });
        const broker = brokerPid();
        const before = { sender: cpuSeconds(sender.pid), broker: cpuSeconds(broker), at: performance.now() };
        await new Promise((resolve) => setTimeout(resolve, IDLE_WINDOW_MS));
        const windowSeconds = seconds(before.at);
        run.idleCpuPercentOfOneCore = {
          sender: percent((cpuSeconds(sender.pid) - before.sender) / windowSeconds),
          broker: percent((cpuSeconds(broker) - before.broker) / windowSeconds),
        };
        run.idleRssMiB = { sender: rssMiB(sender.pid), router: rssMiB(router.pid), broker: rssMiB(broker) };

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
        console.log("endpoint scale", run);
      } finally {
        results.runs.push(run);
        await Promise.all(processes.map((process) => (CPU_PROF_DIR && process.name === "sender" ? process.stop() : process.kill())));
        await receiver.stop();
        run.topicsDeleted = await deletePipelineTopics(pipeline);
        await pipeline.close();
      }
    });
  }
});
