import { randomUUID } from "node:crypto";
import { topicNames } from "@novatrade/domain";
import { deliveryTopicSpec, registerEndpoint, type EndpointConfig } from "@novatrade/endpoint-config";
import type { Pipeline } from "./pipeline.js";

/** Topics are created and configs written this many at a time (one admin or produce request). */
const CHUNK = 250;

export interface ManyEndpointsShape {
  /** Default 20. */
  maxInFlight?: number;
  /** Consecutive endpoints sharing one organization; default 1 (an organization each). */
  endpointsPerOrganization?: number;
}

/**
 * Registers `count` endpoints, each in an organization of its own (the B2B shape: one to three
 * endpoints per organization) unless `shape` groups them, all pointing at `url` (or at
 * `url(index)`). Their delivery topics and configs are written in bulk, not one `addEndpoint`
 * at a time: for thousands of endpoints before the services start. Returns the configs in
 * registration order.
 */
export async function registerManyEndpoints(
  pipeline: Pipeline,
  url: string | ((index: number) => string),
  count: number,
  shape: ManyEndpointsShape = {},
): Promise<EndpointConfig[]> {
  const perOrganization = shape.endpointsPerOrganization ?? 1;
  const organizations = Array.from({ length: Math.ceil(count / perOrganization) }, () => randomUUID());
  const configs = Array.from(
    { length: count },
    (_, index) =>
      registerEndpoint(
        {
          organizationUuid: organizations[Math.floor(index / perOrganization)]!,
          url: typeof url === "string" ? url : url(index),
          eventTypes: ["compliance.*"],
          maxInFlight: shape.maxInFlight ?? 20,
        },
        { secretBox: pipeline.secretBox, now: Date.now(), urlPolicy: { allowHttp: true, allowLoopback: true, allowPrivate: false } },
      ).config,
  );
  const options = { naming: pipeline.naming, deliveryTopicPartitions: 1 };
  for (let start = 0; start < configs.length; start += CHUNK) {
    const chunk = configs.slice(start, start + CHUNK);
    await pipeline.kafka.admin.ensureTopics(chunk.map((config) => deliveryTopicSpec(options, config.endpointId)));
    const values = await Promise.all(chunk.map((config) => pipeline.records.encode("endpoint-config", config)));
    await pipeline.producer.send(
      topicNames(pipeline.naming).endpointConfig,
      chunk.map((config, index) => ({ key: config.endpointId, value: values[index]! })),
    );
  }
  return configs;
}

/**
 * Deletes every topic of the pipeline's prefix. Thousands of delivery topics left behind would
 * exhaust the broker's file descriptors for everyone sharing it.
 */
export async function deletePipelineTopics(pipeline: Pipeline): Promise<number> {
  const topics = (await pipeline.kafka.admin.listTopics()).filter((topic) => topic.startsWith(pipeline.prefix));
  for (let start = 0; start < topics.length; start += CHUNK) await pipeline.kafka.admin.deleteTopics(topics.slice(start, start + CHUNK));
  return topics.length;
}
