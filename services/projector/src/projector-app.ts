import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { topicKind, topicNames, validateAutoPausePolicy, validateRetentionPolicy, validateTopicNaming, type AutoPausePolicy, type RetentionPolicy } from "@novatrade/domain";
import { createDatabase, ensurePartitions, maintainPartitions, migrateLatest, type Database } from "@novatrade/database";
import { createEventCodec, createRecordCodec, loadSchemaCatalogue } from "@novatrade/event-codec";
import { EndpointConfigPublisher, EndpointDirectory, endpointStore } from "@novatrade/endpoint-config";
import { createKafka, startConsumerLagReader } from "@novatrade/kafka";
import { createEventProducer } from "@novatrade/producer";
import { startOpsServer, type StopFunction } from "@novatrade/service-runtime";
import { AutoPauseOutbox } from "./auto-pause-outbox.js";
import type { ProjectorConfig } from "./config.js";
import { DatabaseGate } from "./database-gate.js";
import { projectEndpointChanges } from "./endpoint-projection.js";
import { projectEvents } from "./event-projection.js";
import { sweepFailingEndpoints } from "./health-sweep.js";
import { createProjectorMetrics } from "./metrics.js";
import { projectOutcomes } from "./outcome-projection.js";
import { ProjectorService } from "./projector-service.js";
import { countPausedEndpoints, type PauseReason } from "./paused-endpoints.js";

export interface ProjectorApp {
  db: Database;
  service: ProjectorService;
  gate: DatabaseGate;
  /** Port of /metrics, /healthz and /readyz (503 while PostgreSQL is unreachable). */
  opsPort: number;
  /**
   * Runs the 72 h sweep now and carries out pending pauses (the timer runs it every
   * PROJECTOR_SWEEP_INTERVAL_MS); returns the endpoints this sweep paused.
   */
  sweep(): Promise<string[]>;
  /** Creates partitions ahead and drops expired ones now (also on a timer). */
  maintain(): Promise<{ created: string[]; dropped: string[] }>;
  /** Counts paused endpoints by reason into novatrade_endpoints_paused now (also every PROJECTOR_PAUSED_COUNT_INTERVAL_MS). */
  countPaused(): Promise<Record<PauseReason, number>>;
}

export interface ProjectorDeps {
  logger: Logger;
  registry: Registry;
  onStop: (stop: StopFunction) => void;
  /** The clock, epoch milliseconds: retention, the sweep and pause times read it. */
  now?: () => number;
}

/** Every so often, without overlapping runs; errors are logged, the timer goes on. */
function every(intervalMs: number, logger: Logger, what: string, work: () => Promise<unknown>): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    work()
      .catch((error: unknown) => logger.error({ err: error, what }, "periodic work failed; next run will retry"))
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Builds and starts the projector: the wiring main.ts runs and the integration tests run
 * in-process. Migrates the schema first, so a fresh database works; every started part
 * registers its stop with `onStop`.
 */
export async function startProjector(config: ProjectorConfig, deps: ProjectorDeps): Promise<ProjectorApp> {
  const { logger, registry, onStop } = deps;
  const now = deps.now ?? Date.now;
  const autoPause: AutoPausePolicy = validateAutoPausePolicy({
    maxConsecutiveFailures: config.PROJECTOR_AUTO_PAUSE_FAILURES,
    maxFailingDurationMs: config.PROJECTOR_AUTO_PAUSE_FAILING_MS,
  });
  const retention: RetentionPolicy = validateRetentionPolicy({ retentionDays: config.PROJECTOR_RETENTION_DAYS, aheadDays: config.PROJECTOR_PARTITIONS_AHEAD_DAYS });
  const naming = validateTopicNaming({ prefix: config.TOPIC_PREFIX, domainTopic: config.DOMAIN_TOPIC });
  const topics = topicNames(naming);
  const metrics = createProjectorMetrics(registry);

  const schema = config.PROJECTOR_DATABASE_SCHEMA;
  const dbLogger = logger.child({ component: "knex" });
  const db = createDatabase({
    url: config.DATABASE_URL,
    schema,
    poolMax: config.PROJECTOR_DATABASE_POOL_MAX,
    // Connection failures are reported (once per outage) by the DatabaseGate; knex's own
    // per-attempt warnings are detail.
    log: { warn: (message) => dbLogger.debug(message), error: (message) => dbLogger.debug(message) },
  });
  onStop(() => db.destroy());
  const gate = new DatabaseGate({ minDelayMs: config.PROJECTOR_DB_RETRY_MIN_MS, maxDelayMs: config.PROJECTOR_DB_RETRY_MAX_MS, metrics, logger: logger.child({ component: "database" }) });
  await gate.run("migrate", () => migrateLatest(db, schema));
  const maintain = async () => {
    const result = await maintainPartitions(db, now(), retention);
    metrics.partitionsDropped.inc(result.dropped.length);
    if (result.dropped.length > 0) logger.info({ dropped: result.dropped }, "expired history partitions dropped");
    return result;
  };
  await gate.run("partition maintenance", maintain);
  const knownDays = new Set<string>();
  const ensureDays = async (days: Iterable<string>) => {
    const missing = [...days].filter((day) => !knownDays.has(day));
    if (missing.length === 0) return;
    await ensurePartitions(db, missing);
    for (const day of missing) knownDays.add(day);
  };

  const catalogue = await loadSchemaCatalogue();
  const schemaRegistry = new SchemaRegistry({ host: config.SCHEMA_REGISTRY_URL });
  const codec = createEventCodec({ registry: schemaRegistry, catalogue });
  const records = createRecordCodec({ registry: schemaRegistry, catalogue });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? "novatrade-projector", logger, registry, metricsPrefix: "novatrade_kafka_" });
  onStop(() => kafka.disconnect());
  const producer = kafka.createProducer();
  await producer.connect();

  // The current configuration of every endpoint, for the auto-pause's read-check-write.
  const directory = new EndpointDirectory({ kafka, records, naming, logger: logger.child({ component: "endpoint-directory" }), service: "projector" });
  await directory.start();
  onStop(() => directory.stop());
  const publisher = new EndpointConfigPublisher({ producer, admin: kafka.admin, records, naming, deliveryTopicPartitions: config.DELIVERY_TOPIC_PARTITIONS });
  const outbox = new AutoPauseOutbox({
    db,
    store: endpointStore(publisher, directory),
    metaEvents: createEventProducer({ producer, codec, catalogue, domainTopic: topics.domain }),
    metrics,
    logger: logger.child({ component: "auto-pause" }),
    now,
  });

  const groupId = config.PROJECTOR_GROUP_ID ?? `${config.TOPIC_PREFIX}projector`;
  const service = new ProjectorService({
    kafka,
    producer,
    records,
    codec,
    topics,
    groupId,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    partitionsConcurrently: config.PROJECTOR_PARTITIONS_CONCURRENTLY,
    sink: {
      outcomes: (batch) => projectOutcomes(db, batch, { autoPause, retention, ensureDays }, now()),
      endpoints: (changes) => projectEndpointChanges(db, changes),
      events: (envelopes) => projectEvents(db, envelopes, { retention, ensureDays }, now()),
      afterAutoPause: () => outbox.process(),
    },
    gate,
    metrics,
    logger: logger.child({ component: "projector" }),
    now,
  });
  // Pauses decided before a crash and not yet carried out.
  await gate.run("pending auto-pauses", () => outbox.process());
  await service.start();
  onStop(() => service.stop());
  const lag = startConsumerLagReader({
    admin: kafka.admin,
    groups: [{ groupId, topics: [topics.deliveryOutcome, topics.endpointConfig, topics.domain] }],
    kindOf: (topic) => topicKind(naming, topic),
    registry,
    logger: logger.child({ component: "consumer-lag" }),
    intervalMs: config.KAFKA_LAG_INTERVAL_MS,
  });
  onStop(() => lag.stop());

  const sweep = async () => {
    const paused = await sweepFailingEndpoints(db, autoPause, now());
    // Always: also picks up a pause whose carrying-out failed after its batch committed.
    await outbox.process();
    return paused;
  };
  onStop(every(config.PROJECTOR_SWEEP_INTERVAL_MS, logger, "72 h sweep", sweep));
  const countPaused = async () => {
    const counts = await countPausedEndpoints(db);
    for (const [reason, count] of Object.entries(counts)) metrics.endpointsPaused.set({ reason }, count);
    return counts;
  };
  await gate.run("count paused endpoints", countPaused);
  onStop(every(config.PROJECTOR_PAUSED_COUNT_INTERVAL_MS, logger, "paused endpoint count", countPaused));
  onStop(every(config.PROJECTOR_MAINTENANCE_INTERVAL_MS, logger, "partition maintenance", async () => {
    await maintain();
    knownDays.clear(); // dropped days must be created again if a row for them still comes
  }));

  const ops = await startOpsServer({ registry, host: config.PROJECTOR_OPS_HOST, port: config.PROJECTOR_OPS_PORT, isLive: () => service.isLive() && directory.isLive(), isReady: () => service.isReady() && directory.isReady() });
  onStop(() => ops.close());
  logger.info({ topics: [topics.deliveryOutcome, topics.endpointConfig, topics.domain], schema, opsPort: ops.port }, "projecting");
  return { db, service, gate, opsPort: ops.port, sweep, maintain, countPaused };
}
