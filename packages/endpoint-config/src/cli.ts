#!/usr/bin/env node
/**
 * `npm run endpoint -- add --org <uuid> --url <url> --types kyc.*`: the endpoint CLI's
 * composition root. Everything it builds is handed to runEndpointCommand, which holds the logic
 * (and is unit-tested with fakes). stdout carries only the result; logs go to stderr.
 */
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { createRecordCodec, loadSchemaCatalogue } from "@novatrade/event-codec";
import { createKafka } from "@novatrade/kafka";
import { createLogger, createMetricsRegistry } from "@novatrade/service-runtime";
import { EndpointConfigPublisher } from "./endpoint-config-publisher.js";
import { EndpointDirectory } from "./endpoint-directory.js";
import { runEndpointCommand, type EndpointCliConfig, type EndpointResources } from "./endpoint-command.js";

async function open(config: EndpointCliConfig): Promise<EndpointResources> {
  const logger = createLogger({ service: "endpoint-cli", level: config.logLevel, destination: process.stderr });
  const catalogue = await loadSchemaCatalogue(config.schemasDirectory ? { directory: config.schemasDirectory } : {});
  // A person or a script is waiting: fail within seconds rather than retry for minutes.
  const registry = new SchemaRegistry({ host: config.schemaRegistryUrl, retry: { retries: 2 } });
  const records = createRecordCodec({ registry, catalogue });
  const kafka = createKafka({
    brokers: config.kafkaBrokers,
    clientId: "novatrade-endpoint-cli",
    logger,
    registry: createMetricsRegistry("endpoint-cli"),
    metricsPrefix: "novatrade_kafka_",
    connectionTimeoutMs: 3_000,
    retry: { retries: 3, initialRetryTimeMs: 300, maxRetryTimeMs: 3_000 },
  });
  // Nothing below connects until it is used: the producer on its first send, the view on start().
  return {
    admin: kafka.admin,
    publisher: new EndpointConfigPublisher({
      producer: kafka.createProducer(),
      admin: kafka.admin,
      records,
      naming: config.naming,
      deliveryTopicPartitions: config.deliveryTopicPartitions,
    }),
    directory: new EndpointDirectory({ kafka, records, naming: config.naming, logger: logger.child({ component: "endpoint-directory" }), service: "endpoint-cli" }),
    close: () => kafka.disconnect(),
  };
}

process.exitCode = await runEndpointCommand(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  open,
});
