import { sampleEvent } from "@novatrade/event-codec";
import { topicNames } from "@novatrade/domain";
import type { EndpointConfig } from "@novatrade/endpoint-config";
import { deletePipelineTopics, registerManyEndpoints } from "../../test/support/many-endpoints.js";
import { startPipeline, type Pipeline, type RecordedTopicName } from "../../test/support/pipeline.js";
import { freePort } from "../../test/support/process-tree.js";
import { startServiceProcess, type ServiceProcess } from "../../test/support/service-process.js";
import { startLoadGenerator, type LoadGenerator, type LoadGeneratorOptions } from "./load-generator.js";
import { startReceiverProcess, type ReceiverProcess } from "./receiver-process.js";

/**
 * Processes a run started, killed when the bench process exits whatever happened (a test that
 * timed out, an interrupted run): nothing of a benchmark may outlive it.
 */
const livePids = new Set<number>();
process.once("exit", () => {
  for (const pid of livePids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
});

export interface BenchDispatcherOptions {
  endpoints: number;
  /** Consecutive endpoints sharing one organization (default 1). */
  endpointsPerOrganization?: number;
  maxInFlight?: number;
  /** Where endpoint `index` points; default the receiver's 200-at-once path, one group. */
  url?: (receiver: ReceiverProcess, index: number) => string;
  retrySchedule?: string;
  httpTimeoutMs?: number;
  /** Extra environment for router and sender. */
  env?: Record<string, string>;
  /** Default none: decoding in the bench's process takes CPU from the services. */
  recordedTopics?: RecordedTopicName[];
}

/**
 * One benchmark's dispatcher: its own topics, N endpoints registered in bulk, the receiver in a
 * process of its own; router and sender started as real processes (services/<name>/dist/main.js)
 * when the scenario says so.
 */
export interface BenchDispatcher {
  pipeline: Pipeline;
  receiver: ReceiverProcess;
  endpoints: EndpointConfig[];
  /** Distinct organizations of the endpoints, in registration order. */
  organizations: string[];
  senderOpsPort: number;
  router: ServiceProcess | null;
  sender: ServiceProcess | null;
  startServices(): Promise<{ router: ServiceProcess; sender: ServiceProcess }>;
  /**
   * `count` compliance.decision_made events (`data`, default the sample's) spread round-robin
   * over the organizations, in large produce requests.
   */
  publishSpread(count: number, data?: Record<string, unknown>): Promise<void>;
  startLoadGenerator(options: Omit<LoadGeneratorOptions, "domainTopic" | "organizations">): LoadGenerator;
}

/** Runs `body` with a dispatcher and tears everything down after (processes, topics), even on failure. */
export async function withBenchDispatcher<T>(options: BenchDispatcherOptions, body: (dispatcher: BenchDispatcher) => Promise<T>): Promise<T> {
  const senderOpsPort = await freePort();
  const pipeline = await startPipeline({
    retrySchedule: options.retrySchedule,
    httpTimeoutMs: options.httpTimeoutMs,
    recordedTopics: options.recordedTopics ?? [],
    env: { SENDER_GLOBAL_MAX_IN_FLIGHT: "500", SENDER_OPS_PORT: String(senderOpsPort), ...options.env },
  });
  const stops: Array<() => Promise<void>> = [];
  const track = (pid: number, stop: () => Promise<void>) => {
    livePids.add(pid);
    stops.push(async () => {
      await stop();
      livePids.delete(pid);
    });
  };
  try {
    const receiver = await startReceiverProcess();
    track(receiver.pid, receiver.stop);
    const url = options.url ?? ((receiver: ReceiverProcess) => receiver.url);
    const endpoints = await registerManyEndpoints(pipeline, (index) => url(receiver, index), options.endpoints, {
      maxInFlight: options.maxInFlight,
      endpointsPerOrganization: options.endpointsPerOrganization,
    });
    const organizations = [...new Set(endpoints.map((endpoint) => endpoint.organizationUuid))];
    const domainTopic = topicNames(pipeline.naming).domain;
    const dispatcher: BenchDispatcher = {
      pipeline,
      receiver,
      endpoints,
      organizations,
      senderOpsPort,
      router: null,
      sender: null,
      async startServices() {
        const router = await startServiceProcess("router", pipeline.env, 600_000);
        track(router.pid, router.kill);
        const sender = await startServiceProcess("sender", pipeline.env, 600_000);
        track(sender.pid, sender.kill);
        Object.assign(dispatcher, { router, sender });
        return { router, sender };
      },
      publishSpread: async (count, data) => void (await publishSpread(pipeline, organizations, count, { data })),
      startLoadGenerator(generatorOptions) {
        const generator = startLoadGenerator({ domainTopic, organizations, ...generatorOptions });
        track(generator.pid, generator.stop);
        return generator;
      },
    };
    return await body(dispatcher);
  } finally {
    // Load generator and services first (nothing new produced or attempted), the receiver last.
    for (const stop of stops.reverse()) await stop();
    await deletePipelineTopics(pipeline);
    await pipeline.close();
  }
}

/** An event published by `publishSpread`: its id and the organization it is for. */
export interface PublishedEvent {
  id: string;
  organizationUuid: string;
}

/**
 * `count` compliance.decision_made events (`data`, default the sample's) spread round-robin over
 * `organizations` (starting at the `offset`-th), prepared and produced 500 at a time (one produce
 * request each).
 */
export async function publishSpread(
  pipeline: Pipeline,
  organizations: string[],
  count: number,
  options: { data?: Record<string, unknown>; offset?: number } = {},
): Promise<PublishedEvent[]> {
  const { data = sampleEvent("compliance.decision_made").data, offset = 0 } = options;
  const domainTopic = topicNames(pipeline.naming).domain;
  const published: PublishedEvent[] = [];
  for (let start = 0; start < count; start += 500) {
    const prepared = await Promise.all(
      Array.from({ length: Math.min(500, count - start) }, (_, index) =>
        pipeline.events.prepare({
          type: "compliance.decision_made",
          data,
          organizationUuid: organizations[(offset + start + index) % organizations.length]!,
          source: "WEB_APP",
          partnerUuid: null,
        }),
      ),
    );
    await pipeline.producer.send(domainTopic, prepared.map(({ key, value, headers }) => ({ key, value, headers })));
    published.push(...prepared.map(({ envelope }) => ({ id: envelope.id, organizationUuid: envelope.organizationUuid })));
  }
  return published;
}

/**
 * compliance.decision_made data whose webhook body (the envelope as JSON) is about `bytes`
 * long: `reason` padded.
 */
export function decisionDataOfSize(bytes: number): Record<string, unknown> {
  const sample = sampleEvent("compliance.decision_made");
  const bare = JSON.stringify({ ...sample, data: { ...sample.data, reason: "" } }).length;
  return { ...sample.data, reason: "r".repeat(Math.max(0, bytes - bare)) };
}
