import { randomUUID } from "node:crypto";
import { pino, type Logger } from "pino";
import { Registry } from "prom-client";
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { topicNames, type EventEnvelope, type TopicNaming } from "@novatrade/domain";
import {
  createEventCodec,
  createRecordCodec,
  loadSchemaCatalogue,
  type DeadLetterRecord,
  type DeliveryOutcomeRecord,
  type EventCodec,
  type RecordCodec,
  type SchemaCatalogue,
} from "@novatrade/event-codec";
import {
  EndpointConfigPublisher,
  registerEndpoint,
  rotateSecret,
  SecretBox,
  withStatus,
  type EndpointConfig,
  type EndpointRegistration,
} from "@novatrade/endpoint-config";
import { createKafka, type KafkaClient, type KafkaConsumer, type KafkaProducer } from "@novatrade/kafka";
import { createEventProducer, type EventInput, type EventProducer } from "@novatrade/producer";
import type { StopFunction } from "@novatrade/service-runtime";
import { loadConfig as loadRouterConfig } from "../../services/router/src/config.js";
import { startRouter, type RouterApp } from "../../services/router/src/router-app.js";
import { loadConfig as loadSenderConfig } from "../../services/sender/src/config.js";
import { startSender, type SenderApp } from "../../services/sender/src/sender-app.js";
import { infraEnv } from "./infra-env.js";
import { waitUntil } from "./wait-until.js";

/** A fixed key for sealing test endpoints' secrets; production keys come from configuration. */
export const TEST_SECRETS_KEY = Buffer.alloc(32, 42).toString("base64");

/** A compressed schedule: ten attempts in a couple of seconds instead of 72 hours. */
export const FAST_RETRY_SCHEDULE = "150ms,150ms,150ms,150ms,150ms,150ms,150ms,150ms,150ms";

export interface PipelineOptions {
  retrySchedule?: string;
  /** Sender's whole-attempt timeout, in milliseconds. */
  httpTimeoutMs?: number;
  /** Extra environment for both services (e.g. SENDER_GLOBAL_MAX_IN_FLIGHT). */
  env?: Record<string, string>;
  /**
   * Topics read into memory (default all three). Benchmarks leave out what they do not check:
   * decoding every event and outcome in the bench's process takes CPU from the services.
   */
  recordedTopics?: ReadonlyArray<RecordedTopicName>;
}

export type RecordedTopicName = "outcomes" | "deadLetters" | "domainEvents";

/** A topic read from the beginning into memory, decoded, for assertions. */
export interface RecordedTopic<T> {
  records: T[];
  waitFor(predicate: (records: T[]) => boolean, what: string, timeoutMs?: number): Promise<T[]>;
}

/**
 * The whole dispatcher in this test process, on its own topics (a random prefix), against the
 * real broker and registry: the same startRouter/startSender wiring as the services' main.ts.
 */
export interface Pipeline {
  prefix: string;
  naming: TopicNaming;
  env: Record<string, string>;
  kafka: KafkaClient;
  codec: EventCodec;
  records: RecordCodec;
  catalogue: SchemaCatalogue;
  secretBox: SecretBox;
  producer: KafkaProducer;
  events: EventProducer;
  outcomes: RecordedTopic<DeliveryOutcomeRecord>;
  deadLetters: RecordedTopic<DeadLetterRecord>;
  /** Decoded domain events, meta events included. */
  domainEvents: RecordedTopic<EventEnvelope>;
  router: RouterApp | null;
  /** The running router's metrics registry (novatrade_router_*), for assertions on its counters. */
  routerRegistry: Registry | null;
  sender: SenderApp | null;
  startRouter(): Promise<RouterApp>;
  stopRouter(): Promise<void>;
  /** `wrapRecords`: tests only, wraps the codec the sender writes with (to make encoding fail). */
  startSender(options?: { wrapRecords?: (records: RecordCodec) => RecordCodec }): Promise<SenderApp>;
  stopSender(): Promise<void>;
  /** Registers an endpoint and waits until the running router and sender see it. */
  addEndpoint(input: Omit<EndpointRegistration, "organizationUuid"> & { organizationUuid?: string }): Promise<{ config: EndpointConfig; secret: string }>;
  /** Publishes a new revision and waits until the running services see it. */
  updateEndpoint(config: EndpointConfig): Promise<EndpointConfig>;
  pauseEndpoint(config: EndpointConfig): Promise<EndpointConfig>;
  resumeEndpoint(config: EndpointConfig): Promise<EndpointConfig>;
  rotateEndpointSecret(config: EndpointConfig, overlapMs: number): Promise<{ config: EndpointConfig; secret: string }>;
  removeEndpoint(endpointId: string): Promise<void>;
  publish(input: Partial<EventInput> & Pick<EventInput, "type" | "data">): Promise<string>;
  /** Publishes `count` events of one kind in a few large produce requests; returns their ids. */
  publishMany(count: number, input: Partial<EventInput> & Pick<EventInput, "type" | "data">): Promise<string[]>;
  close(): Promise<void>;
}

export const TEST_ORGANIZATION = "5b7f2c1e-9d3a-4e8b-a6f0-1c2d3e4f5a6b";

function testLogger(): Logger {
  return pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
}

export async function startPipeline(options: PipelineOptions = {}): Promise<Pipeline> {
  const prefix = `it.${randomUUID().slice(0, 8)}.`;
  const naming: TopicNaming = { prefix, domainTopic: `${prefix}events` };
  const env: Record<string, string> = {
    KAFKA_BROKERS: infraEnv.kafkaBrokers.join(","),
    SCHEMA_REGISTRY_URL: infraEnv.schemaRegistryUrl,
    TOPIC_PREFIX: prefix,
    DOMAIN_TOPIC: naming.domainTopic!,
    RETRY_SCHEDULE: options.retrySchedule ?? FAST_RETRY_SCHEDULE,
    TOPIC_PARTITIONS: "3",
    ENDPOINT_SECRETS_KEY: TEST_SECRETS_KEY,
    SENDER_ALLOW_LOOPBACK: "true",
    SENDER_ALLOW_HTTP: "true",
    SENDER_HTTP_TIMEOUT_MS: String(options.httpTimeoutMs ?? 5_000),
    SENDER_CONNECT_TIMEOUT_MS: "2000",
    SENDER_COMMIT_INTERVAL_MS: "100",
    SENDER_TOPIC_REFRESH_MS: "1000",
    // Some tests write delivery records without a work signal (as a lost signal would leave
    // them): they are found within the 5 s safety-net poll, as before the slower poll while
    // signals are read (production: 30 s).
    SENDER_END_OFFSET_POLL_SIGNALLED_MS: "5000",
    // A killed member's partitions move on after 6 s instead of 30 s.
    KAFKA_SESSION_TIMEOUT_MS: "6000",
    ROUTER_OPS_PORT: "0",
    SENDER_OPS_PORT: "0",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    ...options.env,
  };
  const logger = testLogger();
  const catalogue = await loadSchemaCatalogue();
  const schemaRegistry = new SchemaRegistry({ host: infraEnv.schemaRegistryUrl });
  const codec = createEventCodec({ registry: schemaRegistry, catalogue });
  const records = createRecordCodec({ registry: schemaRegistry, catalogue });
  const kafka = createKafka({ brokers: infraEnv.kafkaBrokers, clientId: "pipeline-test", logger, registry: new Registry(), metricsPrefix: "test_kafka_" });
  const secretBox = SecretBox.fromBase64Key(TEST_SECRETS_KEY);
  const names = topicNames(naming);
  await kafka.admin.ensureTopics([
    { topic: names.domain, partitions: 3 },
    { topic: names.endpointConfig, partitions: 1, config: { "cleanup.policy": "compact" } },
    { topic: names.deliveryOutcome, partitions: 3 },
    { topic: names.deadLetter, partitions: 3 },
  ]);
  const producer = kafka.createProducer();
  await producer.connect();
  const publisher = new EndpointConfigPublisher({ producer, admin: kafka.admin, records, naming, deliveryTopicPartitions: 1 });
  const events = createEventProducer({ producer, codec, catalogue, domainTopic: names.domain });

  const consumers: KafkaConsumer[] = [];
  const recorded = new Set(options.recordedTopics ?? ["outcomes", "deadLetters", "domainEvents"]);
  async function record<T>(name: RecordedTopicName, topic: string, decode: (value: Buffer) => Promise<T>): Promise<RecordedTopic<T>> {
    const list: T[] = [];
    if (!recorded.has(name)) {
      return { records: list, waitFor: () => Promise.reject(new Error(`${name} are not recorded: startPipeline({ recordedTopics }) left them out`)) };
    }
    const consumer = kafka.createConsumer({ groupId: `${prefix}test-reader.${randomUUID().slice(0, 8)}`, topics: [topic], fromBeginning: true });
    consumers.push(consumer);
    await consumer.run({
      eachMessage: async (message) => {
        if (message.value) list.push(await decode(message.value));
      },
      // The domain topic may hold poison records (dead-letter tests): the recorder skips what it
      // cannot decode instead of retrying it forever.
      onHandlerError: () => "skip",
    });
    return {
      records: list,
      waitFor: (predicate, what, timeoutMs) => waitUntil(() => predicate(list) && list, { what, timeoutMs }),
    };
  }
  const outcomes = await record("outcomes", names.deliveryOutcome, (value) => records.decode("delivery-outcome", value));
  const deadLetters = await record("deadLetters", names.deadLetter, (value) => records.decode("dead-letter", value));
  const domainEvents = await record("domainEvents", names.domain, async (value) => (await codec.decode(value)).envelope);

  const stops = { router: [] as StopFunction[], sender: [] as StopFunction[] };
  const stopAll = async (list: StopFunction[]) => {
    for (const stop of list.splice(0).reverse()) await stop();
  };

  const pipeline: Pipeline = {
    prefix,
    naming,
    env,
    kafka,
    codec,
    records,
    catalogue,
    secretBox,
    producer,
    events,
    outcomes,
    deadLetters,
    domainEvents,
    router: null,
    routerRegistry: null,
    sender: null,
    async startRouter() {
      const registry = new Registry();
      pipeline.router = await startRouter(loadRouterConfig(env), { logger, registry, onStop: (stop) => stops.router.push(stop) });
      pipeline.routerRegistry = registry;
      return pipeline.router;
    },
    async stopRouter() {
      await stopAll(stops.router);
      pipeline.router = null;
      pipeline.routerRegistry = null;
    },
    async startSender(options = {}) {
      pipeline.sender = await startSender(loadSenderConfig(env), { logger, registry: new Registry(), onStop: (stop) => stops.sender.push(stop), ...options });
      return pipeline.sender;
    },
    async stopSender() {
      await stopAll(stops.sender);
      pipeline.sender = null;
    },
    async addEndpoint(input) {
      const { config, plaintextSecret } = registerEndpoint(
        { organizationUuid: TEST_ORGANIZATION, ...input },
        { secretBox, now: Date.now(), urlPolicy: { allowHttp: true, allowLoopback: true, allowPrivate: false } },
      );
      await pipeline.updateEndpoint(config);
      return { config, secret: plaintextSecret };
    },
    async updateEndpoint(config) {
      await publisher.put(config);
      await waitUntil(
        () =>
          [pipeline.router?.directory, pipeline.sender?.directory].every(
            (directory) => !directory || (directory.get(config.endpointId)?.revision ?? 0) >= config.revision,
          ),
        { what: `services to see ${config.endpointId} revision ${config.revision}` },
      );
      return config;
    },
    pauseEndpoint: (config) => pipeline.updateEndpoint(withStatus(config, "PAUSED", Date.now())),
    resumeEndpoint: (config) => pipeline.updateEndpoint(withStatus(config, "ACTIVE", Date.now())),
    async rotateEndpointSecret(config, overlapMs) {
      const rotated = rotateSecret(config, { secretBox, now: Date.now(), overlapMs });
      await pipeline.updateEndpoint(rotated.config);
      return { config: rotated.config, secret: rotated.plaintextSecret };
    },
    async removeEndpoint(endpointId) {
      await publisher.remove(endpointId);
      await waitUntil(
        () => [pipeline.router?.directory, pipeline.sender?.directory].every((directory) => !directory?.get(endpointId)),
        { what: `services to forget ${endpointId}` },
      );
    },
    async publish(input) {
      const published = await events.publish({
        organizationUuid: TEST_ORGANIZATION,
        source: "WEB_APP",
        partnerUuid: null,
        ...input,
      } as EventInput);
      return published.id;
    },
    async publishMany(count, input) {
      const prepared = await Promise.all(
        Array.from({ length: count }, () =>
          events.prepare({ organizationUuid: TEST_ORGANIZATION, source: "WEB_APP", partnerUuid: null, ...input } as EventInput),
        ),
      );
      await producer.send(
        names.domain,
        prepared.map(({ key, value, headers }) => ({ key, value, headers })),
      );
      return prepared.map(({ envelope }) => envelope.id);
    },
    async close() {
      await pipeline.stopSender();
      await pipeline.stopRouter();
      await Promise.all(consumers.map((consumer) => consumer.disconnect()));
      await kafka.disconnect();
    },
  };
  return pipeline;
}
