import { randomUUID } from "node:crypto";
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { topicNames, type TopicNaming } from "@novatrade/domain";
import { createRecordCodec, loadSchemaCatalogue, type DeadLetterRecord, type RecordCodec } from "@novatrade/event-codec";
import {
  ConcurrentEndpointChangeError,
  createEndpointDirectoryMetrics,
  EndpointConfigPublisher,
  EndpointDirectory,
  endpointStore,
  registerEndpoint,
  rotateSecret,
  SecretBox,
  updateEndpoint,
  withStatus,
  type EndpointConfig,
} from "@novatrade/endpoint-config";
import { createKafka, type KafkaClient, type KafkaProducer } from "@novatrade/kafka";
import { infraEnv } from "../support/infra-env.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import { waitUntil } from "../support/wait-until.js";

/**
 * The endpoint view every router and sender keeps, against the real broker and registry. The
 * registry is reached through a loopback proxy the test can take down, which is what a client
 * sees of a stopped registry.
 */

const ORG = "7d1c2a3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const secretBox = SecretBox.fromBase64Key(Buffer.alloc(32, 5).toString("base64"));

let kafka: KafkaClient;
let producer: KafkaProducer;
let naming: TopicNaming;
let records: RecordCodec;
let publisher: EndpointConfigPublisher;
let proxy: TcpProxy;
const directories: EndpointDirectory[] = [];

function newEndpoint(): EndpointConfig {
  return registerEndpoint(
    { organizationUuid: ORG, url: "http://127.0.0.1:9/hook", eventTypes: ["kyc.*"] },
    { secretBox, now: Date.now(), urlPolicy: { allowHttp: true, allowLoopback: true, allowPrivate: false } },
  ).config;
}

/** A directory whose registry client goes through the proxy. */
async function viewThroughProxy(options: { now?: () => number; deletedRetentionMs?: number } = {}) {
  const catalogue = await loadSchemaCatalogue();
  const registryUrl = new URL(infraEnv.schemaRegistryUrl);
  registryUrl.host = proxy.address;
  const metricsRegistry = new Registry();
  const directory = new EndpointDirectory({
    kafka,
    producer,
    records: createRecordCodec({ registry: new SchemaRegistry({ host: registryUrl.toString().replace(/\/$/, "") }), catalogue }),
    naming,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    service: "directory-test",
    metrics: createEndpointDirectoryMetrics(metricsRegistry),
    retry: { minDelayMs: 50, maxDelayMs: 500 },
    ...options,
  });
  directories.push(directory);
  return { directory, metricsRegistry };
}

beforeEach(async () => {
  const prefix = `it.${randomUUID().slice(0, 8)}.`;
  naming = { prefix, domainTopic: `${prefix}events` };
  kafka = createKafka({ brokers: infraEnv.kafkaBrokers, clientId: "directory-test", logger: pino({ level: "silent" }), registry: new Registry(), metricsPrefix: "test_kafka_" });
  await kafka.admin.ensureTopics([
    { topic: topicNames(naming).endpointConfig, partitions: 1, config: { "cleanup.policy": "compact" } },
    { topic: topicNames(naming).deadLetter, partitions: 1 },
  ]);
  producer = kafka.createProducer();
  await producer.connect();
  records = createRecordCodec({ registry: new SchemaRegistry({ host: infraEnv.schemaRegistryUrl }), catalogue: await loadSchemaCatalogue() });
  publisher = new EndpointConfigPublisher({ producer, admin: kafka.admin, records, naming, deliveryTopicPartitions: 1 });
  const registryUrl = new URL(infraEnv.schemaRegistryUrl);
  proxy = await startTcpProxy({ host: registryUrl.hostname, port: Number(registryUrl.port) });
});

afterEach(async () => {
  for (const directory of directories.splice(0)) await directory.stop();
  await proxy.close();
  await kafka.disconnect();
});

describe("EndpointDirectory", () => {
  test("a registry outage at start delays the view, keeps it unhealthy, and loses no endpoint", async () => {
    const endpoints = [newEndpoint(), newEndpoint(), newEndpoint()];
    for (const endpoint of endpoints) await publisher.put(endpoint);
    await proxy.down();

    const { directory, metricsRegistry } = await viewThroughProxy();
    let started = false;
    const starting = directory.start().then(() => (started = true));
    // It keeps retrying while the registry is away: unhealthy, not started, nothing known yet.
    await waitUntil(async () => (await metricsRegistry.getSingleMetricAsString("novatrade_endpoint_config_waiting")).endsWith(" 1"), {
      what: "the view to wait for the registry",
    });
    expect(started).toBe(false);
    expect(directory.isReady()).toBe(false);

    await proxy.up();
    await starting;
    expect(endpoints.map((endpoint) => directory.get(endpoint.endpointId)?.revision)).toEqual([1, 1, 1]);
    expect(directory.ofOrganization(ORG)).toHaveLength(3);
    await waitUntil(() => directory.isReady(), { what: "the view to be healthy" });
  });

  test("a record that can never decode, last on the topic, is dead-lettered and counted, and start() returns", async () => {
    const good = newEndpoint();
    await publisher.put(good);
    const garbage = Buffer.from([0, 0, 0, 0, 9, 1, 2, 3]);
    await producer.send(topicNames(naming).endpointConfig, [{ key: "ep_undecodable", value: garbage }]);

    const { directory, metricsRegistry } = await viewThroughProxy();
    await directory.start();

    expect(directory.get(good.endpointId)).toBeDefined();
    expect(directory.get("ep_undecodable")).toBeUndefined();
    expect(directory.isReady()).toBe(true);
    const counted = await metricsRegistry.getSingleMetricAsString("novatrade_endpoint_config_dead_letters_total");
    expect(counted).toMatch(/error_class="DecodeError"} 1$/m);

    const deadLetters: DeadLetterRecord[] = [];
    const reader = kafka.createConsumer({ groupId: `${naming.prefix}dead-letter-reader`, topics: [topicNames(naming).deadLetter], fromBeginning: true });
    await reader.run({ eachMessage: async (message) => void deadLetters.push(await records.decode("dead-letter", message.value!)) });
    try {
      await waitUntil(() => deadLetters.length === 1, { what: "the dead letter" });
      expect(deadLetters[0]).toMatchObject({ originalTopic: topicNames(naming).endpointConfig, errorClass: "DecodeError", failedBy: "endpoint-directory.directory-test" });
      expect(Buffer.from(deadLetters[0]!.value!)).toEqual(garbage);
    } finally {
      await reader.disconnect();
    }
  });

  test("a deletion is remembered for its retention only, so the deleted set does not grow forever", async () => {
    const clock = { now: Date.now() };
    const { directory } = await viewThroughProxy({ now: () => clock.now, deletedRetentionMs: 3_600_000 });
    await directory.start();
    const endpoint = newEndpoint();
    await publisher.put(endpoint);
    await publisher.remove(endpoint.endpointId);
    await waitUntil(() => directory.isDeleted(endpoint.endpointId), { what: "the view to read the deletion" });

    clock.now += 3_600_000;
    expect(directory.isDeleted(endpoint.endpointId)).toBe(false);
  });

  test("of two records with the same revision, the first one written is the configuration", async () => {
    const endpoint = newEndpoint();
    await publisher.put(endpoint);
    const paused = withStatus(endpoint, "PAUSED", Date.now());
    const rotated = rotateSecret(endpoint, { secretBox, now: Date.now(), overlapMs: 60_000 }).config;
    await publisher.put(paused);
    await publisher.put(rotated);

    const { directory } = await viewThroughProxy();
    await directory.start();
    expect(directory.get(endpoint.endpointId)).toEqual(paused);
  });

  test("updateEndpoint: a rotation racing a pause is refused as a concurrent change, and every view keeps the pause", async () => {
    const endpoint = newEndpoint();
    await publisher.put(endpoint);
    const { directory: pauser } = await viewThroughProxy();
    const { directory: rotator } = await viewThroughProxy();
    await Promise.all([pauser.start(), rotator.start()]);
    const pauserStore = endpointStore(publisher, pauser);
    const rotatorStore = endpointStore(publisher, rotator);

    // Both read revision 1; the pause lands between the rotation's check and its write.
    const racingRotator = {
      ...rotatorStore,
      append: async (config: EndpointConfig) => {
        await updateEndpoint(pauserStore, endpoint.endpointId, 1, (current) => withStatus(current, "PAUSED", Date.now()));
        return rotatorStore.append(config);
      },
    };
    const rotation = updateEndpoint(racingRotator, endpoint.endpointId, 1, (current) => rotateSecret(current, { secretBox, now: Date.now(), overlapMs: 60_000 }).config);
    await expect(rotation).rejects.toThrow(ConcurrentEndpointChangeError);
    await expect(rotation).rejects.toThrow(/changed concurrently \(expected revision 1, now 2\)/);

    const { directory: fresh } = await viewThroughProxy();
    await fresh.start();
    for (const view of [pauser, rotator, fresh]) {
      expect(view.get(endpoint.endpointId)).toMatchObject({ status: "PAUSED", revision: 2, secrets: endpoint.secrets });
    }
  });
});
