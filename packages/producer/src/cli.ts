#!/usr/bin/env node
/**
 * `npm run produce -- --type kyc.vies_check_failed --org <uuid> --data '{…}'`: the CLI's
 * composition root. Everything it builds is handed to runProduceCommand, which holds the logic
 * (and is unit-tested with fakes). stdout carries only the result; logs go to stderr.
 */
import { readFile } from "node:fs/promises";
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { createEventCodec, loadSchemaCatalogue } from "@novatrade/event-codec";
import { createKafka, type KafkaClient } from "@novatrade/kafka";
import { createLogger, createMetricsRegistry } from "@novatrade/service-runtime";
import { runProduceCommand, type ProduceConfig, type ProduceResources } from "./produce-command.js";

async function open(config: ProduceConfig): Promise<ProduceResources> {
  const logger = createLogger({ service: "produce-cli", level: config.logLevel, destination: process.stderr });
  const catalogue = await loadSchemaCatalogue(config.schemasDirectory ? { directory: config.schemasDirectory } : {});
  // A person or a script is waiting: fail within seconds rather than retry for minutes.
  const registry = new SchemaRegistry({ host: config.schemaRegistryUrl, retry: { retries: 2 } });
  const codec = createEventCodec({ registry, catalogue });
  let kafka: KafkaClient | undefined;
  return {
    catalogue,
    codec,
    kafka() {
      kafka ??= createKafka({
        brokers: config.kafkaBrokers,
        clientId: "novatrade-produce-cli",
        logger,
        registry: createMetricsRegistry("produce-cli"),
        metricsPrefix: "novatrade_kafka_",
        connectionTimeoutMs: 3_000,
        retry: { retries: 3, initialRetryTimeMs: 300, maxRetryTimeMs: 3_000 },
      });
      return { admin: kafka.admin, producer: kafka.createProducer() };
    },
    async close() {
      await kafka?.disconnect();
    },
  };
}

async function readText(path: string): Promise<string> {
  if (path !== "-") return readFile(path, "utf8");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

process.exitCode = await runProduceCommand(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readText,
  open,
});
