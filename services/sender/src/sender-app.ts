import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { randomInt } from "node:crypto";
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { deliveryGroupIdOf, deliveryTopicPattern, retryTopicPattern, topicKind, topicNames, validateTopicNaming } from "@novatrade/domain";
import { createEventCodec, createRecordCodec, loadSchemaCatalogue, type RecordCodec } from "@novatrade/event-codec";
import { EndpointDirectory, pipelineTopicSpecs, prepareEndpointView, SecretBox } from "@novatrade/endpoint-config";
import { createKafka, startConsumerLagReader } from "@novatrade/kafka";
import { Gauge } from "prom-client";
import { createEventProducer } from "@novatrade/producer";
import { startOpsServer, type StopFunction } from "@novatrade/service-runtime";
import { systemClock, type Clock } from "./clock.js";
import type { SenderConfig } from "./config.js";
import { createHttpDelivery } from "./http-delivery.js";
import { createSenderMetrics } from "./metrics.js";
import { retryTopicEnsurer } from "./retry-topics.js";
import { SenderService } from "./sender-service.js";

export interface SenderApp {
  directory: EndpointDirectory;
  service: SenderService;
  /** The sender's metrics (novatrade_sender_*). */
  registry: Registry;
  /** What `/readyz` answers: every consumer (delivery and retry topics, endpoint view) is running. */
  isReady(): boolean;
  /** What `/healthz` answers: no consumer crashed or stopped for good. */
  isLive(): boolean;
}

/**
 * Builds and starts the sender from its configuration: the wiring main.ts runs, and the one the
 * integration tests run in-process (with their own clock if they like). Every started part
 * registers its stop with `onStop`.
 */
export async function startSender(
  config: SenderConfig,
  deps: {
    logger: Logger;
    registry: Registry;
    onStop: (stop: StopFunction) => void;
    clock?: Clock;
    /** Tests only: wraps the record codec the sender writes with (to make encoding fail). */
    wrapRecords?: (records: RecordCodec) => RecordCodec;
  },
): Promise<SenderApp> {
  const { logger, registry, onStop } = deps;

  const naming = validateTopicNaming({ prefix: config.TOPIC_PREFIX, domainTopic: config.DOMAIN_TOPIC });
  const secretBox = SecretBox.fromBase64Key(config.ENDPOINT_SECRETS_KEY);
  const catalogue = await loadSchemaCatalogue();
  const schemaRegistry = new SchemaRegistry({ host: config.SCHEMA_REGISTRY_URL });
  const codec = createEventCodec({ registry: schemaRegistry, catalogue });
  const codecRecords = createRecordCodec({ registry: schemaRegistry, catalogue });
  const records = deps.wrapRecords?.(codecRecords) ?? codecRecords;
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? "novatrade-sender", logger, registry, metricsPrefix: "novatrade_kafka_" });
  onStop(() => kafka.disconnect());
  // Served from the start, unhealthy until every part runs (e.g. while the registry is away).
  let directory: EndpointDirectory | null = null;
  let service: SenderService | null = null;
  const isReady = () => (directory?.isReady() ?? false) && (service?.isReady() ?? false);
  const isLive = () => (directory?.isLive() ?? true) && (service?.isLive() ?? true);
  const ops = await startOpsServer({ registry, host: config.SENDER_OPS_HOST, port: config.SENDER_OPS_PORT, isLive, isReady });
  onStop(() => ops.close());
  // Retry topics are named by delay (see retryTopicForDelay); tier-numbered ones of older
  // versions are still read, to drain what they hold.
  await kafka.admin.ensureTopics(pipelineTopicSpecs({ naming, partitions: config.TOPIC_PARTITIONS, deliveryTopicPartitions: config.DELIVERY_TOPIC_PARTITIONS, retrySchedule: config.RETRY_SCHEDULE }));
  const retryTopics = retryTopicEnsurer({ admin: kafka.admin, naming, partitions: config.TOPIC_PARTITIONS, onCreated: () => service?.refreshRetryTopics() });
  await retryTopics.ensureSchedule(config.RETRY_SCHEDULE);

  const { view, producer } = await prepareEndpointView({ kafka, records, codecs: [codec, records], naming, registry, logger, service: "sender" });
  directory = view;
  onStop(() => view.stop());
  await view.start();
  const http = createHttpDelivery({
    connectTimeoutMs: config.SENDER_CONNECT_TIMEOUT_MS,
    totalTimeoutMs: config.SENDER_HTTP_TIMEOUT_MS,
    maxResponseBytes: config.SENDER_MAX_RESPONSE_BYTES,
    connectionsPerOrigin: 32,
    userAgent: config.SENDER_USER_AGENT,
    allowLoopback: config.SENDER_ALLOW_LOOPBACK,
    allowPrivateNetworks: config.SENDER_ALLOW_PRIVATE_NETWORKS,
    allowHttp: config.SENDER_ALLOW_HTTP,
  });
  onStop(() => http.close());

  const metrics = createSenderMetrics(registry);
  const groupId = config.SENDER_GROUP_ID ?? `${config.TOPIC_PREFIX}sender`;
  const senderService = new SenderService({
    kafka,
    producer,
    records,
    metaEvents: createEventProducer({ producer, codec, catalogue, domainTopic: topicNames(naming).domain }),
    directory: view,
    http,
    secretBox,
    naming,
    ensureRetryTopic: retryTopics.ensure,
    deliveryTopicPartitions: config.DELIVERY_TOPIC_PARTITIONS,
    groupId,
    jitterRatio: config.SENDER_RETRY_JITTER_RATIO,
    globalMaxInFlight: config.SENDER_GLOBAL_MAX_IN_FLIGHT,
    organizationMaxInFlight: config.SENDER_ORGANIZATION_MAX_IN_FLIGHT ?? Math.ceil(config.SENDER_GLOBAL_MAX_IN_FLIGHT / 2),
    ownFaultRetryMs: config.SENDER_OWN_FAULT_RETRY_MS,
    endpointBacklogLimit: config.SENDER_ENDPOINT_BACKLOG_LIMIT,
    commitIntervalMs: config.SENDER_COMMIT_INTERVAL_MS,
    topicRefreshMs: config.SENDER_TOPIC_REFRESH_MS,
    endOffsetPollMs: config.SENDER_END_OFFSET_POLL_MS,
    partitionLingerMs: config.SENDER_PARTITION_LINGER_MS,
    retryLookaheadMax: config.SENDER_RETRY_LOOKAHEAD_MAX,
    fetchBytesPerPartition: config.SENDER_FETCH_BYTES_PER_PARTITION,
    maxLingeringPartitions: config.SENDER_MAX_LINGERING_PARTITIONS,
    endOffsetPollSignalledMs: config.SENDER_END_OFFSET_POLL_SIGNALLED_MS,
    deliveryShards: config.SENDER_DELIVERY_SHARDS,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    clock: deps.clock ?? systemClock,
    random: () => randomInt(0, 2 ** 32) / 2 ** 32,
    metrics,
    logger: logger.child({ component: "sender" }),
  });
  service = senderService;
  onStop(() => senderService.stop());
  await senderService.start();

  // Retry backlog per tier is the retry group's lag on each tier's topic: read with the lag.
  const tierOf = (kind: string) => (kind.startsWith("retry_") ? kind.slice("retry_".length) : null);
  const lag = startConsumerLagReader({
    admin: kafka.admin,
    groups: [
      // Every shard group's committed offsets, reported as the sender's one delivery lag.
      { groupId, topics: deliveryTopicPattern(naming), groupIdOf: (topic) => deliveryGroupIdOf(groupId, topic, config.SENDER_DELIVERY_SHARDS) },
      { groupId: `${groupId}.retry`, topics: retryTopicPattern(naming) },
    ],
    kindOf: (topic) => topicKind(naming, topic),
    registry,
    logger: logger.child({ component: "consumer-lag" }),
    intervalMs: config.KAFKA_LAG_INTERVAL_MS,
    onRead: (read) => {
      metrics.retryBacklog.reset();
      for (const [kind, backlog] of read.get(`${groupId}.retry`) ?? []) {
        const tier = tierOf(kind);
        if (tier) metrics.retryBacklog.set({ tier }, backlog);
      }
    },
  });
  onStop(() => lag.stop());
  new Gauge({
    name: "novatrade_sender_retry_oldest_due_timestamp_seconds",
    help: "Due time (epoch seconds) of the oldest retry this sender has read and not finished, by tier (its delay); absent when none is waiting",
    labelNames: ["tier"] as const,
    registers: [registry],
    collect() {
      this.reset();
      const oldest = new Map<string, number>();
      for (const [topic, due] of senderService.oldestRetryDueByTopic()) {
        const tier = tierOf(topicKind(naming, topic));
        if (tier) oldest.set(tier, Math.min(oldest.get(tier) ?? Infinity, due));
      }
      for (const [tier, due] of oldest) this.set({ tier }, due / 1000);
    },
  });
  return { directory: view, service: senderService, registry, isReady, isLive };
}
