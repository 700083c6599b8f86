import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { pino } from "pino";
import { Registry } from "prom-client";
import { test as base, beforeAll, describe, expect } from "vitest";
import { deliveryTopic, parseRetrySchedule, retryTopicsForSchedule, topicNames, type TopicNaming } from "@novatrade/domain";
import { createRecordCodec, loadSchemaCatalogue } from "@novatrade/event-codec";
import { EndpointDirectory, SecretBox, type EndpointConfig } from "@novatrade/endpoint-config";
import { createKafka, type KafkaClient } from "@novatrade/kafka";
import { infraEnv } from "../support/infra-env.js";
import { runCli, type CliResult } from "../support/run-cli.js";

/**
 * `npm run endpoint` as operators run it: the compiled CLI in a child process, against the real
 * broker and registry. Each test has a topic prefix of its own, and its topics are deleted after.
 */

const CLI = fileURLToPath(new URL("../../packages/endpoint-config/dist/cli.js", import.meta.url));
const ORG = "550e8400-e29b-41d4-a716-446655440000";
const SECRETS_KEY = Buffer.alloc(32, 9).toString("base64");

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsc -b\` (make test does) before the integration tier`);
});

function newKafka(clientId: string): KafkaClient {
  return createKafka({
    brokers: infraEnv.kafkaBrokers,
    clientId,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    registry: new Registry(),
    metricsPrefix: "test_endpoint_cli_kafka_",
    connectionTimeoutMs: 3_000,
  });
}

interface Installation {
  naming: TopicNaming;
  kafka: KafkaClient;
  /** Runs the CLI with this installation's environment. */
  cli(...args: string[]): Promise<CliResult>;
  /** The topics of this installation that exist now. */
  topics(): Promise<string[]>;
}

const test = base.extend<{ installation: Installation }>({
  // eslint-disable-next-line no-empty-pattern
  installation: async ({}, use) => {
    const prefix = `it.${randomUUID().slice(0, 8)}.`;
    const naming: TopicNaming = { prefix, domainTopic: `${prefix}events` };
    const env = {
      KAFKA_BROKERS: infraEnv.kafkaBrokers.join(","),
      SCHEMA_REGISTRY_URL: infraEnv.schemaRegistryUrl,
      TOPIC_PREFIX: prefix,
      DOMAIN_TOPIC: naming.domainTopic!,
      TOPIC_PARTITIONS: "2",
      RETRY_SCHEDULE: "1s,2s,2s",
      ENDPOINT_SECRETS_KEY: SECRETS_KEY,
      ENDPOINT_ALLOW_HTTP: "true",
      ENDPOINT_ALLOW_LOOPBACK: "true",
    };
    const kafka = newKafka("endpoint-cli-test");
    const topics = async () => (await kafka.admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    await use({ naming, kafka, cli: (...args) => runCli(CLI, args, env), topics });
    await kafka.admin.deleteTopics(await topics()).catch(() => undefined);
    await kafka.disconnect();
  },
});

/** Parses the one JSON line a successful command prints. */
function output<T = Record<string, unknown>>(result: CliResult): T {
  expect(result, result.stderr).toMatchObject({ code: 0 });
  const lines = result.stdout.trim().split("\n");
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as T;
}

async function listed(installation: Installation): Promise<Array<Pick<EndpointConfig, "endpointId" | "status" | "revision">>> {
  return output<{ endpoints: EndpointConfig[] }>(await installation.cli("list", "--org", ORG)).endpoints;
}

/** The topic as the router and senders read it, in this process. */
async function readDirectory(installation: Installation): Promise<EndpointDirectory> {
  const catalogue = await loadSchemaCatalogue();
  const records = createRecordCodec({ registry: new SchemaRegistry({ host: infraEnv.schemaRegistryUrl }), catalogue });
  const directory = new EndpointDirectory({
    kafka: installation.kafka,
    records,
    naming: installation.naming,
    logger: pino({ level: "silent" }),
    service: "endpoint-cli-test",
  });
  await directory.start();
  return directory;
}

describe("npm run endpoint against Kafka and the schema registry", () => {
  test("add, list, pause, rotate-secret and delete an endpoint", async ({ installation }) => {
    const added = output<EndpointConfig & { secret: string }>(
      await installation.cli("add", "--org", ORG, "--url", "http://127.0.0.1:9/hooks", "--types", "kyc.*,compliance.status_changed", "--description", "it"),
    );
    expect(added).toMatchObject({ organizationUuid: ORG, status: "ACTIVE", eventTypes: ["kyc.*", "compliance.status_changed"], revision: 1 });
    expect(added.secret).toMatch(/^whsec_/);
    const { endpointId } = added;

    // The whole pipeline's topics exist, and the endpoint's delivery topic.
    const names = topicNames(installation.naming);
    expect(await installation.topics()).toEqual(
      expect.arrayContaining([names.domain, names.endpointConfig, names.deliveryOutcome, names.deadLetter, ...retryTopicsForSchedule(installation.naming, parseRetrySchedule("1s,2s,2s")), deliveryTopic(installation.naming, endpointId)]),
    );

    expect(await listed(installation)).toEqual([expect.objectContaining({ endpointId, status: "ACTIVE", revision: 1 })]);

    expect(output(await installation.cli("pause", endpointId))).toMatchObject({ endpointId, status: "PAUSED", revision: 2 });
    expect(await listed(installation)).toEqual([expect.objectContaining({ endpointId, status: "PAUSED", revision: 2 })]);

    const rotated = output<EndpointConfig & { secret: string; secretId: string }>(await installation.cli("rotate-secret", endpointId, "--overlap-hours", "1"));
    expect(rotated.secret).not.toBe(added.secret);

    // What the senders will read: the record decodes, and each printed secret is the one sealed.
    const directory = await readDirectory(installation);
    try {
      const stored = directory.get(endpointId)!;
      expect(stored).toMatchObject({ status: "PAUSED", revision: 3 });
      const box = SecretBox.fromBase64Key(SECRETS_KEY);
      expect(stored.secrets.map((secret) => box.open(secret.ciphertext, endpointId))).toEqual([added.secret, rotated.secret]);
      expect(stored.secrets[1]!.secretId).toBe(rotated.secretId);
    } finally {
      await directory.stop();
    }

    expect(output(await installation.cli("delete", endpointId))).toEqual({ endpointId, deleted: true });
    expect(await listed(installation)).toEqual([]);

    const again = await installation.cli("pause", endpointId);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/endpointId: endpoint ep_\w+ was deleted/);
  });

  test("a root wildcard exits 2 naming eventTypes[0] and writes nothing", async ({ installation }) => {
    const result = await installation.cli("add", "--org", ORG, "--url", "http://127.0.0.1:9/hooks", "--types", "*");

    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/eventTypes\[0\]: the root wildcard "\*" is not allowed.*--types/);
    // Not even a topic: the registration is validated before anything connects.
    expect(await installation.topics()).toEqual([]);
  });
});
