import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { TopicNaming } from "@novatrade/domain";
import { retryWhileRetriable, type RecordCodec } from "@novatrade/event-codec";
import type { KafkaClient, KafkaProducer } from "@novatrade/kafka";
import { EndpointDirectory } from "./endpoint-directory.js";
import { createEndpointDirectoryMetrics } from "./endpoint-directory-metrics.js";

export interface EndpointViewDeps {
  kafka: KafkaClient;
  records: RecordCodec;
  /** Every codec of the service: their schema ids are looked up before anything runs. */
  codecs: Array<{ preload(): Promise<void> }>;
  naming: TopicNaming;
  /** The service's metrics registry. */
  registry: Registry;
  logger: Logger;
  service: string;
}

/**
 * What a router or sender does before its consumers start: waits for the schema registry to
 * give every schema id the service uses (retrying while it is unreachable, so a registry
 * restart later changes nothing), connects the producer, and builds the endpoint view on it
 * (not started: the caller starts it once its readiness probe can see it).
 */
export async function prepareEndpointView(deps: EndpointViewDeps): Promise<{ view: EndpointDirectory; producer: KafkaProducer }> {
  const { kafka, logger } = deps;
  await retryWhileRetriable(() => Promise.all(deps.codecs.map((codec) => codec.preload())), {
    onRetry: (error, attempt, delayMs) => logger.warn({ err: error, attempt, delayMs }, "schema registry unreachable; waiting for it"),
  });
  const producer = kafka.createProducer();
  await producer.connect();
  const view = new EndpointDirectory({
    kafka,
    producer,
    records: deps.records,
    naming: deps.naming,
    metrics: createEndpointDirectoryMetrics(deps.registry),
    logger: logger.child({ component: "endpoint-directory" }),
    service: deps.service,
  });
  return { view, producer };
}
