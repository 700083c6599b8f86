import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { validateTopicNaming } from "@novatrade/domain";
import { createDatabase, migrateLatest, type Database } from "@novatrade/database";
import { EndpointConfigPublisher, prepareEndpointView, SecretBox, type EndpointDirectory } from "@novatrade/endpoint-config";
import { createEventCodec, createRecordCodec, loadSchemaCatalogue } from "@novatrade/event-codec";
import { createKafka } from "@novatrade/kafka";
import { startOpsServer, type StopFunction } from "@novatrade/service-runtime";
import type { AdminContext } from "./admin-context.js";
import { ApiKeyStore } from "./api-key-store.js";
import { buildCatalogDocument } from "./catalog-document.js";
import { EndpointHealthStore } from "./endpoint-health-store.js";
import type { AdminConfig } from "./config.js";
import { EndpointOperations } from "./endpoint-operations.js";
import { FeedsStore } from "./feeds-store.js";
import { HistoryStore } from "./history-store.js";
import { buildHttpServer, type AdminServer, type RouteEntry } from "./http-server.js";
import { createAdminMetrics } from "./metrics.js";
import { ReplayJobStore } from "./replay-job-store.js";
import { ReplayRunner } from "./replay-runner.js";
import { PortalSigner } from "./portal/portal-session.js";

export interface AdminApp {
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:8080 */
  url: string;
  server: AdminServer;
  /** Every route served, for checking the OpenAPI document against. */
  routes: RouteEntry[];
  db: Database;
  directory: EndpointDirectory;
  runner: ReplayRunner;
}

export interface AdminDeps {
  logger: Logger;
  registry: Registry;
  onStop: (stop: StopFunction) => void;
  /** The clock, epoch milliseconds. */
  now?: () => number;
}

const HOUR_MS = 3_600_000;

/**
 * Builds and starts the admin service: the wiring main.ts runs and the integration tests run
 * in-process. Every started part registers its stop with `onStop` (stopped in reverse).
 */
export async function startAdmin(config: AdminConfig, deps: AdminDeps): Promise<AdminApp> {
  const { logger, registry, onStop } = deps;
  const now = deps.now ?? Date.now;
  const naming = validateTopicNaming({ prefix: config.TOPIC_PREFIX, domainTopic: config.DOMAIN_TOPIC });
  const metrics = createAdminMetrics(registry);
  const secretBox = SecretBox.fromBase64Key(config.ENDPOINT_SECRETS_KEY);

  const db = createDatabase({ url: config.DATABASE_URL, schema: config.ADMIN_DATABASE_SCHEMA, log: logger.child({ component: "database" }) });
  onStop(() => db.destroy());
  await migrateLatest(db, config.ADMIN_DATABASE_SCHEMA);

  const catalogue = await loadSchemaCatalogue();
  const schemaRegistry = new SchemaRegistry({ host: config.SCHEMA_REGISTRY_URL });
  const codec = createEventCodec({ registry: schemaRegistry, catalogue });
  const records = createRecordCodec({ registry: schemaRegistry, catalogue });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? "novatrade-admin", logger, registry, metricsPrefix: "novatrade_kafka_" });
  onStop(() => kafka.disconnect());
  const { view: directory, producer } = await prepareEndpointView({ kafka, records, codecs: [codec, records], naming, registry, logger, service: "admin" });
  await directory.start();
  onStop(() => directory.stop());
  const publisher = new EndpointConfigPublisher({ producer, admin: kafka.admin, records, naming, deliveryTopicPartitions: config.DELIVERY_TOPIC_PARTITIONS });

  const history = new HistoryStore(db);
  const jobs = new ReplayJobStore(db, now);
  const runner = new ReplayRunner({
    kafka,
    producer,
    records,
    codec,
    jobs,
    history,
    naming,
    endpoint: (endpointId) => directory.get(endpointId),
    retrySchedule: config.RETRY_SCHEDULE,
    checkpointRecords: config.ADMIN_REPLAY_CHECKPOINT_RECORDS,
    logger: logger.child({ component: "replay" }),
    metrics,
    now,
  });
  onStop(() => runner.stop());

  const context: AdminContext = {
    keys: new ApiKeyStore(db, now, config.ADMIN_BOOTSTRAP_OPERATOR_KEY),
    endpoints: new EndpointOperations({
      directory,
      publisher,
      producer,
      records,
      codec,
      secretBox,
      naming,
      urlPolicy: { allowHttp: config.ENDPOINT_ALLOW_HTTP, allowLoopback: config.ENDPOINT_ALLOW_LOOPBACK, allowPrivate: config.ENDPOINT_ALLOW_PRIVATE },
      defaultOverlapMs: config.ADMIN_SECRET_OVERLAP_HOURS * HOUR_MS,
      retrySchedule: config.RETRY_SCHEDULE,
      now,
    }),
    history,
    health: new EndpointHealthStore(db, now),
    catalog: buildCatalogDocument(catalogue),
    feeds: new FeedsStore(db, now),
    jobs,
    runner,
    registry,
    metrics,
    isReady: async () => directory.isReady() && (await db.raw("SELECT 1").then(() => true, () => false)),
    portal: {
      signer: new PortalSigner(config.ADMIN_PORTAL_SECRET, now),
      sessionMinutes: config.ADMIN_PORTAL_SESSION_MINUTES,
      linkMinutes: config.ADMIN_PORTAL_LINK_MINUTES,
      publicUrl: config.ADMIN_PORTAL_PUBLIC_URL,
    },
    pageLimitMax: config.ADMIN_PAGE_LIMIT_MAX,
    bodyLimitBytes: config.ADMIN_BODY_LIMIT_BYTES,
  };
  const { server, routes } = await buildHttpServer(context, logger);
  await server.listen({ host: config.ADMIN_HTTP_HOST, port: config.ADMIN_HTTP_PORT });
  onStop(() => server.close());
  const address = server.server.address();
  const port = typeof address === "object" && address ? address.port : config.ADMIN_HTTP_PORT;

  const ops = await startOpsServer({ registry, host: config.ADMIN_OPS_HOST, port: config.ADMIN_OPS_PORT, isLive: () => directory.isLive(), isReady: () => context.isReady() });
  onStop(() => ops.close());

  // Jobs a stopped admin left queued or running: resumed from their saved progress.
  await runner.resumeUnfinished();
  logger.info({ port, opsPort: ops.port, portal: `http://${config.ADMIN_HTTP_HOST}:${port}/portal` }, "admin API and portal listening");
  return { url: `http://${config.ADMIN_HTTP_HOST}:${port}`, server, routes, db, directory, runner };
}
