import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { topicKind, topicNames, validateTopicNaming } from "@novatrade/domain";
import { createEventCodec, createRecordCodec, loadSchemaCatalogue } from "@novatrade/event-codec";
import { EndpointDirectory, pipelineTopicSpecs, prepareEndpointView } from "@novatrade/endpoint-config";
import { createKafka, startConsumerLagReader } from "@novatrade/kafka";
import { startOpsServer, type StopFunction } from "@novatrade/service-runtime";
import type { RouterConfig } from "./config.js";
import { EventRouter } from "./event-router.js";
import { createRouterMetrics } from "./metrics.js";
import { RouterService } from "./router-service.js";

export interface RouterApp {
  directory: EndpointDirectory;
  service: RouterService;
  /** What `/readyz` answers: every consumer (domain topic and endpoint view) is running. */
  isReady(): boolean;
  /** What `/healthz` answers: no consumer crashed or stopped for good. */
  isLive(): boolean;
}

/**
 * Builds and starts the router from its configuration: the wiring main.ts runs, and the one the
 * integration tests run in-process. Every started part registers its stop with `onStop`.
 *
 * `/healthz` is served from the start and says unhealthy until every part runs: while the
 * schema registry is unreachable at start the router waits (it never routes against a partial
 * endpoint view) and says so.
 */
export async function startRouter(
  config: RouterConfig,
  deps: { logger: Logger; registry: Registry; onStop: (stop: StopFunction) => void; now?: () => number },
): Promise<RouterApp> {
  const { logger, registry, onStop } = deps;

  const naming = validateTopicNaming({ prefix: config.TOPIC_PREFIX, domainTopic: config.DOMAIN_TOPIC });
  const catalogue = await loadSchemaCatalogue();
  const schemaRegistry = new SchemaRegistry({ host: config.SCHEMA_REGISTRY_URL });
  const codec = createEventCodec({ registry: schemaRegistry, catalogue });
  const records = createRecordCodec({ registry: schemaRegistry, catalogue });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? "novatrade-router", logger, registry, metricsPrefix: "novatrade_kafka_" });
  onStop(() => kafka.disconnect());

  let directory: EndpointDirectory | null = null;
  let service: RouterService | null = null;
  const isReady = () => (directory?.isReady() ?? false) && (service?.isReady() ?? false);
  const isLive = () => (directory?.isLive() ?? true) && (service?.isLive() ?? true);
  const ops = await startOpsServer({ registry, host: config.ROUTER_OPS_HOST, port: config.ROUTER_OPS_PORT, isLive, isReady });
  onStop(() => ops.close());

  await kafka.admin.ensureTopics(
    pipelineTopicSpecs({
      naming,
      partitions: config.TOPIC_PARTITIONS,
      deliveryTopicPartitions: config.DELIVERY_TOPIC_PARTITIONS,
      retrySchedule: config.RETRY_SCHEDULE,
    }),
  );
  const { view, producer } = await prepareEndpointView({ kafka, records, codecs: [codec, records], naming, registry, logger, service: "router" });
  directory = view;
  onStop(() => view.stop());
  await view.start();
  const router = new EventRouter({
    codec,
    records,
    endpointsOf: (organizationUuid) => view.ofOrganization(organizationUuid),
    naming,
    retrySchedule: config.RETRY_SCHEDULE,
    metrics: createRouterMetrics(registry),
    now: deps.now ?? Date.now,
  });
  const groupId = config.ROUTER_GROUP_ID ?? `${config.TOPIC_PREFIX}router`;
  const routerService = new RouterService({
    kafka,
    producer,
    router,
    naming,
    groupId,
    deliveryTopicPartitions: config.DELIVERY_TOPIC_PARTITIONS,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    logger: logger.child({ component: "router" }),
  });
  service = routerService;
  onStop(() => routerService.stop());
  await routerService.start();
  const lag = startConsumerLagReader({
    admin: kafka.admin,
    groups: [{ groupId, topics: [topicNames(naming).domain] }],
    kindOf: (topic) => topicKind(naming, topic),
    registry,
    logger: logger.child({ component: "consumer-lag" }),
    intervalMs: config.KAFKA_LAG_INTERVAL_MS,
  });
  onStop(() => lag.stop());

  logger.info({ domainTopic: topicNames(naming).domain, opsPort: ops.port }, "routing");
  return { directory: view, service: routerService, isReady, isLive };
}
