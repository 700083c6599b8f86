import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { sampleEvent } from "@novatrade/event-codec";
import type { EndpointConfig } from "@novatrade/endpoint-config";
import { deletePipelineTopics, registerManyEndpoints } from "../support/many-endpoints.js";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { waitUntil } from "../support/wait-until.js";

/**
 * Issue 7: the cost of reading per-endpoint delivery topics grows with the endpoints that have
 * work, not with all endpoints. 1,000 endpoints in 1,000 organizations (ENDPOINT_SCALE_TEST_ENDPOINTS
 * to change it), one delivery topic each; the sender fetches only the partitions with records.
 */
const ENDPOINTS = Number(process.env.ENDPOINT_SCALE_TEST_ENDPOINTS ?? 1_000);
const BUSY = 40;
const data = sampleEvent("compliance.decision_made").data;

describe(`endpoint scale: ${ENDPOINTS} endpoints, one delivery topic each`, () => {
  let pipeline: Pipeline;
  let receiver: Receiver;
  let endpoints: EndpointConfig[];

  beforeAll(async () => {
    pipeline = await startPipeline();
    receiver = await startReceiver();
    endpoints = await registerManyEndpoints(pipeline, receiver.url, ENDPOINTS);
    await pipeline.startRouter();
    const sender = await pipeline.startSender();
    await waitUntil(() => [...sender.directory.all()].length >= ENDPOINTS && sender.service.deliveryPartitions().assigned >= ENDPOINTS, {
      what: `the sender to be assigned ${ENDPOINTS} delivery partitions`,
      timeoutMs: 150_000,
    });
  }, 300_000);

  afterAll(async () => {
    if (!pipeline) return;
    await pipeline.stopSender();
    await pipeline.stopRouter();
    await deletePipelineTopics(pipeline);
    await pipeline.close();
    await receiver?.close();
  }, 300_000);

  test("idle endpoints are not fetched; busy ones are, every delivery arrives, and caught-up partitions are paused again", async () => {
    const sender = pipeline.sender!;
    // Idle: no partition named in a fetch.
    await waitUntil(() => sender.service.deliveryPartitions().idle >= ENDPOINTS, { what: "every delivery partition idle", timeoutMs: 60_000 });
    expect(sender.service.deliveryPartitions()).toMatchObject({ active: 0, fetching: 0 });

    // Work for BUSY endpoints spread over the list, three events each.
    const busy = endpoints.filter((_, index) => index % Math.floor(ENDPOINTS / BUSY) === 0).slice(0, BUSY);
    const ids = new Set<string>();
    let mostFetching = 0;
    const sample = setInterval(() => (mostFetching = Math.max(mostFetching, sender.service.deliveryPartitions().fetching)), 20);
    try {
      for (const endpoint of busy) {
        for (let i = 0; i < 3; i++) ids.add(await pipeline.publish({ type: "compliance.decision_made", data, organizationUuid: endpoint.organizationUuid }));
      }
      await waitUntil(() => [...ids].every((id) => receiver.eventIds().has(id)), { what: `${ids.size} deliveries`, timeoutMs: 90_000 });
      // Caught up: paused again.
      await waitUntil(() => sender.service.deliveryPartitions().active === 0, { what: "busy partitions paused again once caught up", timeoutMs: 30_000 });
    } finally {
      clearInterval(sample);
    }
    // Sentinel: the sampling did see partitions being fetched (so "at most BUSY" means something).
    expect(mostFetching).toBeGreaterThan(0);
    expect(mostFetching).toBeLessThanOrEqual(BUSY);
    // Each event is of one organization with one endpoint: delivered exactly once.
    expect(receiver.requests.filter((request) => ids.has(request.json.id))).toHaveLength(ids.size);
    expect(sender.service.deliveryPartitions()).toMatchObject({ active: 0, fetching: 0 });

    // The metric says the same (one series per delivery shard group: summed).
    const metric = (await sender.registry.getMetricsAsJSON()).find((m) => m.name === "novatrade_kafka_consumer_work_partitions")!;
    const total = (state: string) => metric.values.filter((v) => v.labels.state === state).reduce((sum, v) => sum + v.value, 0);
    expect(total("active")).toBe(0);
    expect(total("idle")).toBe(ENDPOINTS);
  });

  test("a new endpoint's first delivery arrives", async () => {
    const newcomer = await startReceiver();
    try {
      const { config } = await pipeline.addEndpoint({ url: newcomer.url, eventTypes: ["compliance.*"], organizationUuid: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" });
      const id = await pipeline.publish({ type: "compliance.decision_made", data, organizationUuid: config.organizationUuid });
      await waitUntil(() => newcomer.eventIds().has(id), { what: "the new endpoint's first delivery", timeoutMs: 90_000 });
    } finally {
      await newcomer.close();
    }
  });
});
