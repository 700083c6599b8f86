#!/usr/bin/env node
/**
 * `make demo`'s composition root (scripts/demo.sh runs it against a running `make run`): builds
 * the Kafka client, codecs and the admin API client from the environment and hands them to runDemo.
 */
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { topicNames } from "@novatrade/domain";
import { createEventCodec, loadSchemaCatalogue } from "@novatrade/event-codec";
import { createKafka } from "@novatrade/kafka";
import { createEventProducer } from "@novatrade/producer";
import { createLogger, createMetricsRegistry } from "@novatrade/service-runtime";
import { loadDemoConfig } from "./config.js";
import { adminEndpoints } from "./demo-endpoints.js";
import { DemoTimeoutError, runDemo } from "./run-demo.js";

const config = loadDemoConfig(process.env);
const logger = createLogger({ service: "demo", level: process.env.LOG_LEVEL ? config.LOG_LEVEL : "warn", destination: process.stderr });
const naming = { prefix: config.TOPIC_PREFIX, domainTopic: config.DOMAIN_TOPIC };
const catalogue = await loadSchemaCatalogue();
const registry = new SchemaRegistry({ host: config.SCHEMA_REGISTRY_URL, retry: { retries: 2 } });
const kafka = createKafka({
  brokers: config.KAFKA_BROKERS,
  clientId: "novatrade-demo",
  logger,
  registry: createMetricsRegistry("demo"),
  metricsPrefix: "novatrade_kafka_",
});
const producer = kafka.createProducer();
try {
  await producer.connect();
  const endpoints = adminEndpoints({ baseUrl: `http://127.0.0.1:${config.ADMIN_HTTP_PORT}`, operatorKey: config.ADMIN_BOOTSTRAP_OPERATOR_KEY });
  const result = await runDemo({
    endpoints,
    events: createEventProducer({ producer, codec: createEventCodec({ registry, catalogue }), catalogue, domainTopic: topicNames(naming).domain }),
    print: (line) => process.stdout.write(`[demo] ${line}\n`),
    clock: Date.now,
    organizationUuid: config.DEMO_ORGANIZATION_UUID,
    receiverHost: config.DEMO_RECEIVER_HOST,
    receiverPort: config.DEMO_RECEIVER_PORT,
    timeoutMs: config.DEMO_TIMEOUT_MS,
    probeIntervalMs: config.DEMO_PROBE_INTERVAL_MS,
  });
  process.exitCode = result.rejected === 0 ? 0 : 1;
  process.stdout.write(`[demo] endpoint ${result.endpointId} kept (paused) with its deliveries; see them in the portal (link valid 15 min):\n`);
  process.stdout.write(`[demo]   ${await endpoints.portalLink(result.organizationUuid, result.endpointId)}\n`);
} catch (error) {
  process.stderr.write(`[demo] ${error instanceof DemoTimeoutError ? error.message + " — is `make run` running?" : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await kafka.disconnect();
}
