import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { pino } from "pino";
import { Registry } from "prom-client";
import { test as base, beforeAll, describe, expect, vi } from "vitest";
import type { EventEnvelope } from "@novatrade/domain";
import { EventCodec, loadSchemaCatalogue, registerSchemas, sampleEvent, type SchemaCatalogue } from "@novatrade/event-codec";
import { createKafka, type KafkaClient, type KafkaMessage } from "@novatrade/kafka";
import { createEventProducer, EVENT_CONTENT_TYPE } from "@novatrade/producer";
import { infraEnv } from "../support/infra-env.js";
import { kafkaNamesFixture, type Names } from "../support/kafka-names.js";
import { runCli, type CliResult } from "../support/run-cli.js";

/**
 * The producer library and `npm run produce` against the real broker and registry. Each test
 * writes to a domain topic of its own and reads it back with a consumer group of its own; it
 * waits for conditions, never for time.
 */

const WAIT = { timeout: 60_000, interval: 50 };
const CLI = fileURLToPath(new URL("../../packages/producer/dist/cli.js", import.meta.url));
const ORG = "550e8400-e29b-41d4-a716-446655440000";
const OTHER_ORG = "6ba7b810-9dad-41d1-80b4-00c04fd430c8";
const PARTNER = "11111111-2222-4333-8444-555555555555";

let catalogue: SchemaCatalogue;

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsc -b\` (make test does) before the integration tier`);
  catalogue = await loadSchemaCatalogue();
  // Idempotent: the schemas this build writes with must be in the registry, as `make schemas` does.
  await registerSchemas(infraEnv.schemaRegistryUrl, catalogue);
});


function newKafka(clientId: string): KafkaClient {
  return createKafka({
    brokers: infraEnv.kafkaBrokers,
    clientId,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    registry: new Registry(),
    metricsPrefix: "test_producer_kafka_",
    connectionTimeoutMs: 3_000,
  });
}

/** A codec with its own registry client: nothing cached from the writer's side. */
function newCodec(): EventCodec {
  return new EventCodec({ registry: new SchemaRegistry({ host: infraEnv.schemaRegistryUrl }), catalogue });
}

const test = base.extend<{ names: Names; kafka: KafkaClient }>({
  names: kafkaNamesFixture("it-producer", () => newKafka("producer-test-cleanup")),
  kafka: async ({ names }, use) => {
    void names;
    const kafka = newKafka("producer-test");
    await use(kafka);
    await kafka.disconnect();
  },
});

/** Reads a topic from the beginning with a fresh group; `messages` fills as records arrive. */
async function readTopic(kafka: KafkaClient, topic: string, groupId: string): Promise<KafkaMessage[]> {
  const messages: KafkaMessage[] = [];
  const consumer = kafka.createConsumer({ groupId, topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async (message) => {
      messages.push(message);
    },
  });
  return messages;
}

async function decodeAll(messages: KafkaMessage[]): Promise<EventEnvelope[]> {
  const codec = newCodec();
  const envelopes: EventEnvelope[] = [];
  for (const message of messages) envelopes.push((await codec.decode(message.value!)).envelope);
  return envelopes;
}

/** Records in the topic: the sum of its partitions' high watermarks minus their low ones. */
async function recordCount(kafka: KafkaClient, topic: string): Promise<bigint> {
  const offsets = await kafka.admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, { low, high }) => sum + BigInt(high) - BigInt(low), 0n);
}

function runProduceCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(CLI, args, { KAFKA_BROKERS: infraEnv.kafkaBrokers.join(","), SCHEMA_REGISTRY_URL: infraEnv.schemaRegistryUrl, ...env });
}

describe("producer against Kafka and the schema registry", () => {
  test("publish writes the event keyed by organization; a consumer decodes exactly the published envelope", async ({ kafka, names }) => {
    const topic = names.topic("library");
    await kafka.admin.ensureTopics([{ topic, partitions: 3 }]);
    const producer = createEventProducer({ producer: kafka.createProducer(), codec: newCodec(), catalogue, domainTopic: topic });

    const first = await producer.publish({
      type: "kyc.vies_check_failed",
      source: "WEB_APP",
      organizationUuid: ORG,
      partnerUuid: PARTNER,
      data: sampleEvent("kyc.vies_check_failed").data,
    });
    const second = await producer.publish({
      type: "compliance.status_changed",
      source: "SYSTEM",
      organizationUuid: ORG,
      data: sampleEvent("compliance.status_changed", { version: 2 }).data,
    });
    const other = await producer.publish({
      type: "compliance.decision_made",
      source: "API",
      organizationUuid: OTHER_ORG,
      data: sampleEvent("compliance.decision_made").data,
    });

    // One organization, one partition, in the order produced.
    expect(second.partition).toBe(first.partition);
    expect(BigInt(second.offset)).toBe(BigInt(first.offset) + 1n);
    expect(first.envelope.schemaVersion).toBe(1);
    expect(second.envelope.schemaVersion).toBe(2);

    const messages = await readTopic(kafka, topic, names.group("library"));
    await vi.waitFor(() => expect(messages).toHaveLength(3), WAIT);

    const decoded = await decodeAll(messages);
    const byId = new Map(decoded.map((envelope) => [envelope.id, envelope]));
    for (const published of [first, second, other]) {
      expect(byId.get(published.id)).toStrictEqual(published.envelope);
      const message = messages.find((m) => m.headers["event-id"] === published.id)!;
      expect({ partition: message.partition, offset: message.offset }).toEqual({ partition: published.partition, offset: published.offset });
      expect(message.key?.toString()).toBe(published.envelope.organizationUuid);
      expect(message.headers).toEqual({
        "content-type": EVENT_CONTENT_TYPE,
        "event-id": published.id,
        "event-type": published.type,
        "schema-version": String(published.envelope.schemaVersion),
      });
    }
  });

  test("the CLI creates the domain topic, produces, and prints where the event went", async ({ kafka, names }) => {
    const topic = names.topic("cli");
    const data = sampleEvent("compliance.decision_made").data;

    const result = await runProduceCli(
      ["--type", "compliance.decision_made", "--org", ORG, "--partner", PARTNER, "--source", "WEB_APP", "--data", JSON.stringify(data)],
      { DOMAIN_TOPIC: topic },
    );

    expect(result.code, result.stderr).toBe(0);
    // stdout is the machine-readable result alone: one JSON line (logs, if any, go to stderr).
    expect(result.stdout.endsWith("}\n") && result.stdout.trim().split("\n").length === 1).toBe(true);
    const printed = JSON.parse(result.stdout) as { id: string; type: string; topic: string; partition: number; offset: string };
    expect(printed).toEqual({ id: expect.stringMatching(/^evt_[0-9a-f]{24}$/), type: "compliance.decision_made", topic, partition: expect.any(Number), offset: "0" });
    expect(await kafka.admin.fetchTopicOffsets(topic)).toHaveLength(6);

    const messages = await readTopic(kafka, topic, names.group("cli"));
    await vi.waitFor(() => expect(messages).toHaveLength(1), WAIT);
    const [envelope] = await decodeAll(messages);
    expect(envelope).toStrictEqual({
      id: printed.id,
      type: "compliance.decision_made",
      schemaVersion: 1,
      source: "WEB_APP",
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      organizationUuid: ORG,
      partnerUuid: PARTNER,
      data,
    });
    expect(messages[0]!.partition).toBe(printed.partition);
    expect(messages[0]!.key?.toString()).toBe(ORG);
  });

  test("the CLI rejects invalid input with exit code 2 naming the field, and writes nothing", async ({ kafka, names }) => {
    const topic = names.topic("cli-invalid");
    const valid = await runProduceCli(["--type", "kyc.vies_check_failed", "--org", ORG, "--topic", topic, "--data", JSON.stringify(sampleEvent("kyc.vies_check_failed").data)]);
    expect(valid.code, valid.stderr).toBe(0);
    const before = await recordCount(kafka, topic);
    expect(before).toBe(1n);

    const badData = await runProduceCli(["--type", "kyc.vies_check_failed", "--org", ORG, "--topic", topic, "--data", '{"bad":1}']);
    expect(badData.code).toBe(2);
    expect(badData.stdout).toBe("");
    expect(badData.stderr.trim().split("\n")).toHaveLength(1);
    expect(badData.stderr).toMatch(/invalid event: data\.\w+: /);

    const unknownType = await runProduceCli(["--type", "kyc.vies_check_passed", "--org", ORG, "--topic", topic, "--data", "{}"]);
    expect(unknownType.code).toBe(2);
    expect(unknownType.stderr).toMatch(/invalid event: type: unknown event type "kyc\.vies_check_passed"/);

    const badOrg = await runProduceCli(["--type", "kyc.vies_check_failed", "--org", "not-a-uuid", "--topic", topic, "--data", JSON.stringify(sampleEvent("kyc.vies_check_failed").data)]);
    expect(badOrg.code).toBe(2);
    expect(badOrg.stderr).toMatch(/organizationUuid: must be a UUID/);

    // The CLI has exited: anything it wrote was acknowledged, so it would be counted now.
    expect(await recordCount(kafka, topic)).toBe(before);

    // Invalid input does not create a missing topic either.
    const untouched = names.topic("cli-never-created");
    const rejected = await runProduceCli(["--type", "kyc.vies_check_failed", "--org", ORG, "--topic", untouched, "--data", '{"bad":1}']);
    expect(rejected.code).toBe(2);
    expect(await kafka.admin.listTopics()).not.toContain(untouched);
  });

  test("the CLI's dry run prints the event and touches no topic", async ({ kafka, names }) => {
    const topic = names.topic("cli-dry-run");
    const result = await runProduceCli(["--type", "kyc.vies_check_failed", "--org", ORG, "--topic", topic, "--dry-run", "--data", JSON.stringify(sampleEvent("kyc.vies_check_failed").data)]);

    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as { dryRun: boolean; envelope: EventEnvelope };
    expect(printed.dryRun).toBe(true);
    expect(printed.envelope).toMatchObject({ type: "kyc.vies_check_failed", source: "SYSTEM", organizationUuid: ORG, partnerUuid: null });
    expect(await kafka.admin.listTopics()).not.toContain(topic);
  });

  test("the CLI reports an unreachable broker with exit code 1", async ({ names }) => {
    // Port 9 (discard) on loopback: nothing listens, so connecting fails at once.
    const result = await runProduceCli(
      ["--type", "kyc.vies_check_failed", "--org", ORG, "--topic", names.topic("cli-down"), "--data", JSON.stringify(sampleEvent("kyc.vies_check_failed").data)],
      { KAFKA_BROKERS: "127.0.0.1:9", LOG_LEVEL: "silent" },
    );

    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^produce: failed: KafkaError: .*ECONNREFUSED/);
  });
});
