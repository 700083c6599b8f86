import { randomUUID } from "node:crypto";
import { pino } from "pino";
import { Registry } from "prom-client";
import { test as base, describe, expect, vi } from "vitest";
import {
  createKafka,
  KafkaError,
  nextOffset,
  type ConsumerEvents,
  type KafkaClient,
  type KafkaConsumer,
  type KafkaMessage,
  type RunOptions,
  type TopicSpec,
} from "@novatrade/kafka";
import { infraEnv } from "../support/infra-env.js";
import { kafkaNamesFixture, type Names } from "../support/kafka-names.js";

/**
 * The Kafka adapter against the real broker (Apache Kafka 4.1, KRaft). Every test gets its own
 * topics and consumer groups, removed afterwards, and waits for conditions, never for time.
 */

const WAIT = { timeout: 60_000, interval: 50 };


interface Fixtures {
  names: Names;
  registry: Registry;
  kafka: KafkaClient;
}

function newClient(registry: Registry, clientId = "kafka-adapter-test"): KafkaClient {
  return createKafka({
    brokers: infraEnv.kafkaBrokers,
    clientId,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    registry,
    metricsPrefix: "test_kafka_",
    connectionTimeoutMs: 3_000,
    requestTimeoutMs: 30_000,
    // Fast retries keep crash/restart tests short.
    retry: { retries: 2, initialRetryTimeMs: 100, maxRetryTimeMs: 1_000 },
  });
}

const test = base.extend<Fixtures>({
  names: kafkaNamesFixture("it-kafka", () => newClient(new Registry(), "kafka-adapter-test-cleanup")),
  registry: async ({}, use) => {
    await use(new Registry());
  },
  kafka: async ({ names, registry }, use) => {
    void names;
    const kafka = newClient(registry);
    await use(kafka);
    await kafka.disconnect();
  },
});

/** Collects what a consumer handles, so tests can wait for it. */
function collector() {
  const messages: KafkaMessage[] = [];
  return {
    messages,
    values: () => messages.map((m) => m.value?.toString() ?? null),
    eachMessage: async (message: KafkaMessage) => {
      messages.push(message);
    },
  };
}

async function runConsumer(consumer: KafkaConsumer, options: RunOptions): Promise<KafkaConsumer> {
  await consumer.run(options);
  await vi.waitFor(() => expect(consumer.status()).toBe("running"), WAIT);
  return consumer;
}

function values(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
}

describe("kafka adapter against Kafka 4.1", () => {
  test("ensureTopics creates what is missing and is idempotent", async ({ kafka, names }) => {
    const deliveries = names.topic("deliveries");
    const config = names.topic("config");
    const specs: TopicSpec[] = [
      { topic: deliveries, partitions: 3, config: { "retention.ms": 30 * 24 * 3600 * 1000 } },
      { topic: config, partitions: 1, config: { "cleanup.policy": "compact" } },
    ];

    expect(await kafka.admin.ensureTopics(specs)).toEqual({ created: [deliveries, config], existing: [] });
    expect(await kafka.admin.ensureTopics(specs)).toEqual({ created: [], existing: [deliveries, config] });
    // Concurrent callers (two services starting at once) both succeed.
    const third = names.topic("third");
    const both = await Promise.all([
      kafka.admin.ensureTopics([{ topic: third, partitions: 2 }]),
      kafka.admin.ensureTopics([{ topic: third, partitions: 2 }]),
    ]);
    expect(both.flatMap((r) => [...r.created, ...r.existing])).toEqual([third, third]);

    const topics = await kafka.admin.listTopics();
    expect(topics).toEqual(expect.arrayContaining([deliveries, config, third]));
    expect((await kafka.admin.fetchTopicOffsets(deliveries)).map((p) => p.partition)).toEqual([0, 1, 2]);
    expect(await kafka.admin.fetchTopicOffsets(config)).toEqual([{ partition: 0, low: "0", high: "0" }]);

    expect(await kafka.admin.deleteTopics([third, `${third}-never-existed`])).toEqual([third]);
    await vi.waitFor(async () => expect(await kafka.admin.listTopics()).not.toContain(third), WAIT);
  });

  test("a send to a topic that does not exist fails (no auto-creation)", async ({ kafka, names }) => {
    const producer = kafka.createProducer({ retry: { retries: 1 } });
    const error = await producer.send(names.topic("missing"), [{ value: Buffer.from("x") }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaError);
  });

  test("producer and admin keep working after a topic they used is deleted", async ({ kafka, names, registry }) => {
    // kafkajs clients never forget a topic they used; once it is deleted, every metadata refresh
    // fails. The adapter replaces such a client.
    const doomed = names.topic("doomed");
    const survivor = names.topic("survivor");
    await kafka.admin.ensureTopics([
      { topic: doomed, partitions: 1 },
      { topic: survivor, partitions: 1 },
    ]);
    const producer = kafka.createProducer();
    await producer.send(doomed, [{ value: Buffer.from("1") }]);
    await kafka.admin.fetchTopicOffsets(doomed);

    // Deleted by someone else: a second client, so this one's admin is not told.
    const other = newClient(new Registry(), "kafka-adapter-test-other");
    await other.admin.deleteTopics([doomed]);
    await other.disconnect();

    await expect(producer.send(survivor, [{ value: Buffer.from("2") }])).resolves.toHaveLength(1);
    expect(await kafka.admin.fetchTopicOffsets(survivor)).toEqual([{ partition: 0, low: "0", high: "1" }]);
    const missing = await producer.send(doomed, [{ value: Buffer.from("3") }]).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION" });
    await expect(producer.send(survivor, [{ value: Buffer.from("4") }])).resolves.toHaveLength(1);
    expect(await registry.metrics()).toMatch(/test_kafka_client_events_total\{[^}]*component="producer",event="connect"\} [2-9]/);
  });

  test("a consumer of a topic that does not exist fails at run, and can run once it exists", async ({ kafka, names }) => {
    const topic = names.topic("late");
    const seen = collector();
    const consumer = kafka.createConsumer({ groupId: names.group("late"), topics: [topic], fromBeginning: true });
    await expect(consumer.run({ eachMessage: seen.eachMessage })).rejects.toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION" });
    expect(consumer.status()).toBe("idle");
    await kafka.admin.ensureTopics([{ topic, partitions: 1 }]);
    await kafka.createProducer().send(topic, [{ value: Buffer.from("late") }]);
    await runConsumer(consumer, { eachMessage: seen.eachMessage });
    await vi.waitFor(() => expect(seen.values()).toEqual(["late"]), WAIT);
  });

  test("produce and consume round trip with keys, headers, tombstones and acks", async ({ kafka, names }) => {
    const topic = names.topic("roundtrip");
    await kafka.admin.ensureTopics([{ topic, partitions: 3 }]);
    const producer = kafka.createProducer();
    await producer.connect();

    const before = Date.now();
    const acks = await producer.send(topic, [
      { key: "endpoint-1", value: Buffer.from("a"), headers: { "event-type": "trade.executed", "x-id": "1" } },
      { key: "endpoint-1", value: Buffer.from("b"), headers: { "event-type": "trade.executed", "x-id": "2" } },
      { key: Buffer.from("endpoint-2"), value: Buffer.from("c") },
      { key: "endpoint-3", value: null },
      { value: Buffer.from("pinned"), partition: 2, timestamp: 1_700_000_000_000 },
    ]);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.topic).toBe(topic);
      expect(ack.baseOffset).toMatch(/^\d+$/);
    }

    const seen = collector();
    const consumer = kafka.createConsumer({ groupId: names.group("roundtrip"), topics: [topic], fromBeginning: true });
    await runConsumer(consumer, { eachMessage: seen.eachMessage });
    await vi.waitFor(() => expect(seen.messages).toHaveLength(5), WAIT);

    const byValue = new Map(seen.messages.map((m) => [m.value?.toString() ?? "tombstone", m]));
    const a = byValue.get("a")!;
    const b = byValue.get("b")!;
    expect(a.key?.toString()).toBe("endpoint-1");
    expect(a.headers).toEqual({ "event-type": "trade.executed", "x-id": "1" });
    // Same key, same partition, in order.
    expect(b.partition).toBe(a.partition);
    expect(BigInt(b.offset)).toBe(BigInt(a.offset) + 1n);
    expect(a.timestamp).toBeGreaterThanOrEqual(before - 60_000);
    expect(byValue.get("c")!.headers).toEqual({});
    expect(byValue.get("tombstone")!.value).toBeNull();
    expect(byValue.get("tombstone")!.key?.toString()).toBe("endpoint-3");
    const pinned = byValue.get("pinned")!;
    expect(pinned.partition).toBe(2);
    expect(pinned.timestamp).toBe(1_700_000_000_000);
    // Every message's offset is covered by its partition's ack.
    for (const message of seen.messages) {
      const ack = acks.find((x) => x.partition === message.partition)!;
      expect(BigInt(message.offset)).toBeGreaterThanOrEqual(BigInt(ack.baseOffset));
    }
    expect(consumer.assignment()).toEqual([{ topic, partitions: [0, 1, 2] }]);

    const group = await kafka.admin.describeGroup(consumer.groupId);
    expect(group.state).toBe("Stable");
    expect(group.members).toHaveLength(1);
    expect(group.members[0]!.assignment).toEqual([{ topic, partitions: [0, 1, 2] }]);
  });

  test("pause and resume one partition, from outside and from the handler", async ({ kafka, names }) => {
    const topic = names.topic("pause");
    await kafka.admin.ensureTopics([{ topic, partitions: 2 }]);
    const producer = kafka.createProducer();
    const seen = collector();
    const consumer = kafka.createConsumer({ groupId: names.group("pause"), topics: [topic], fromBeginning: true, maxWaitTimeMs: 200 });
    consumer.pause([{ topic, partitions: [0] }]); // before run: applied at the join
    await runConsumer(consumer, { eachMessage: seen.eachMessage });
    expect(consumer.isPaused(topic, 0)).toBe(true);

    await producer.send(topic, [{ value: Buffer.from("p0-first"), partition: 0 }]);
    await producer.send(topic, [{ value: Buffer.from("p1-first"), partition: 1 }]);
    // Later partition-1 messages arriving prove fetches ran while partition 0 stayed paused.
    await vi.waitFor(() => expect(seen.values()).toContain("p1-first"), WAIT);
    await producer.send(topic, [{ value: Buffer.from("p1-second"), partition: 1 }]);
    await vi.waitFor(() => expect(seen.values()).toContain("p1-second"), WAIT);
    expect(seen.values()).not.toContain("p0-first");

    consumer.resume([{ topic, partitions: [0] }]);
    await vi.waitFor(() => expect(seen.values()).toContain("p0-first"), WAIT);

    // The handler pauses its own partition: nothing more from it until resumed.
    let resumeP1: (() => void) | undefined;
    const seen2 = collector();
    const consumer2 = kafka.createConsumer({ groupId: names.group("pause-self"), topics: [topic], fromBeginning: true, maxWaitTimeMs: 200 });
    await runConsumer(consumer2, {
      eachMessage: async (message, context) => {
        await seen2.eachMessage(message);
        if (message.partition === 1 && !resumeP1) resumeP1 = context.pause();
      },
    });
    await vi.waitFor(() => expect(seen2.values()).toEqual(expect.arrayContaining(["p0-first", "p1-first"])), WAIT);
    expect(consumer2.isPaused(topic, 1)).toBe(true);
    await producer.send(topic, [{ value: Buffer.from("p0-later"), partition: 0 }]);
    await vi.waitFor(() => expect(seen2.values()).toContain("p0-later"), WAIT);
    expect(seen2.values()).not.toContain("p1-second");
    resumeP1!();
    await vi.waitFor(() => expect(seen2.values()).toContain("p1-second"), WAIT);
  });

  test("seek moves a partition back", async ({ kafka, names }) => {
    const topic = names.topic("seek");
    await kafka.admin.ensureTopics([{ topic, partitions: 1 }]);
    await kafka.createProducer().send(topic, values("m", 5).map((v) => ({ value: Buffer.from(v) })));

    const seen = collector();
    const consumer = kafka.createConsumer({ groupId: names.group("seek"), topics: [topic], fromBeginning: true });
    await runConsumer(consumer, { eachMessage: seen.eachMessage, autoCommit: false });
    await vi.waitFor(() => expect(seen.values()).toEqual(values("m", 5)), WAIT);

    consumer.seek({ topic, partition: 0, offset: "2" });
    await vi.waitFor(() => expect(seen.values()).toEqual([...values("m", 5), "m2", "m3", "m4"]), WAIT);
    expect(seen.messages.slice(5).map((m) => m.offset)).toEqual(["2", "3", "4"]);
  });

  test("explicit commits: a restarted consumer resumes after the committed offset", async ({ kafka, names }) => {
    const topic = names.topic("commit");
    const groupId = names.group("commit");
    await kafka.admin.ensureTopics([{ topic, partitions: 1 }]);
    await kafka.createProducer().send(topic, values("m", 6).map((v) => ({ value: Buffer.from(v) })));

    const first = collector();
    const consumer = kafka.createConsumer({ groupId, topics: [topic], fromBeginning: true });
    await runConsumer(consumer, {
      autoCommit: false,
      eachMessage: async (message) => {
        await first.eachMessage(message);
        // Commit only up to m2: m3..m5 are handled but not committed.
        if (message.value?.toString() === "m2") {
          await consumer.commit([{ topic, partition: message.partition, offset: nextOffset(message.offset) }]);
        }
      },
    });
    await vi.waitFor(() => expect(first.values()).toEqual(values("m", 6)), WAIT);
    await consumer.disconnect();
    expect(consumer.status()).toBe("stopped");
    await expect(consumer.commit([{ topic, partition: 0, offset: "6" }])).rejects.toMatchObject({ code: "NOT_RUNNING" });

    expect(await kafka.admin.fetchGroupOffsets(groupId, [topic])).toEqual([{ topic, partition: 0, offset: "3" }]);
    expect(await kafka.admin.fetchGroupOffsets(names.group("never-ran"), [topic])).toEqual([
      { topic, partition: 0, offset: null },
    ]);

    const second = collector();
    const restarted = kafka.createConsumer({ groupId, topics: [topic], fromBeginning: true });
    await runConsumer(restarted, { eachMessage: second.eachMessage, autoCommit: false });
    await vi.waitFor(() => expect(second.values()).toEqual(["m3", "m4", "m5"]), WAIT);
  });

  test("replay: a group's offsets reset to a timestamp", async ({ kafka, names }) => {
    const topic = names.topic("replay");
    const groupId = names.group("replay");
    await kafka.admin.ensureTopics([{ topic, partitions: 2 }]);
    const hourAgo = Date.now() - 3_600_000;
    const now = Date.now();
    const producer = kafka.createProducer();
    await producer.send(topic, [
      { value: Buffer.from("old-0"), partition: 0, timestamp: hourAgo },
      { value: Buffer.from("old-1"), partition: 0, timestamp: hourAgo + 1 },
      { value: Buffer.from("new-0"), partition: 0, timestamp: now },
      { value: Buffer.from("old-2"), partition: 1, timestamp: hourAgo },
    ]);

    const seen = collector();
    const consumer = kafka.createConsumer({ groupId, topics: [topic], fromBeginning: true });
    await runConsumer(consumer, { eachMessage: seen.eachMessage });
    await vi.waitFor(() => expect(seen.messages).toHaveLength(4), WAIT);
    await vi.waitFor(
      async () =>
        expect(await kafka.admin.fetchGroupOffsets(groupId, [topic])).toEqual([
          { topic, partition: 0, offset: "3" },
          { topic, partition: 1, offset: "1" },
        ]),
      WAIT,
    );

    // Kafka refuses offsets written from outside a running group.
    await expect(kafka.admin.resetGroupOffsetsToTimestamp(groupId, [topic], now - 1)).rejects.toMatchObject({
      code: "NON_EMPTY_GROUP",
    });
    await consumer.disconnect();
    await vi.waitFor(async () => expect((await kafka.admin.describeGroup(groupId)).state).toBe("Empty"), WAIT);

    expect(await kafka.admin.fetchTopicOffsetsByTimestamp(topic, now - 1)).toEqual([
      { partition: 0, offset: "2" },
      { partition: 1, offset: "1" }, // nothing that recent: the high watermark
    ]);
    const set = await kafka.admin.resetGroupOffsetsToTimestamp(groupId, [topic], hourAgo + 1);
    expect(set).toEqual([
      { topic, partition: 0, offset: "1" },
      { topic, partition: 1, offset: "1" },
    ]);
    expect(await kafka.admin.fetchGroupOffsets(groupId, [topic])).toEqual(set);

    const replayed = collector();
    const again = kafka.createConsumer({ groupId, topics: [topic], fromBeginning: true });
    await runConsumer(again, { eachMessage: replayed.eachMessage });
    await vi.waitFor(() => expect(replayed.values().sort()).toEqual(["new-0", "old-1"]), WAIT);
  });

  test("transactions: commit, abort, offsets in the transaction, and fencing", async ({ kafka, names }) => {
    const input = names.topic("tx-in");
    const output = names.topic("tx-out");
    const groupId = names.group("tx");
    await kafka.admin.ensureTopics([
      { topic: input, partitions: 1 },
      { topic: output, partitions: 1 },
    ]);
    const transactionalId = `it-kafka-tx-${randomUUID()}`;
    const producer = kafka.createTransactionalProducer({ transactionalId });

    const result = await producer.transaction(async (tx) => {
      await tx.send(output, [{ key: "k", value: Buffer.from("committed-1") }]);
      await tx.send(output, [{ key: "k", value: Buffer.from("committed-2") }]);
      await tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: 0, offset: "7" }] }] });
      return "done";
    });
    expect(result).toBe("done");

    const failure = new Error("handler failed mid-transaction");
    await expect(
      producer.transaction(async (tx) => {
        await tx.send(output, [{ value: Buffer.from("aborted") }]);
        throw failure;
      }),
    ).rejects.toBe(failure);

    await producer.transaction(async (tx) => {
      await tx.send(output, [{ value: Buffer.from("committed-3") }]);
    });

    // read_committed (the default) skips the aborted record and the transaction markers.
    const seen = collector();
    const consumer = kafka.createConsumer({ groupId: names.group("tx-reader"), topics: [output], fromBeginning: true });
    await runConsumer(consumer, { eachMessage: seen.eachMessage });
    await vi.waitFor(() => expect(seen.values()).toEqual(["committed-1", "committed-2", "committed-3"]), WAIT);
    expect(await kafka.admin.fetchGroupOffsets(groupId, [input])).toEqual([{ topic: input, partition: 0, offset: "7" }]);

    // A second producer with the same id fences the first as soon as it connects.
    const successor = kafka.createTransactionalProducer({ transactionalId });
    await successor.connect();
    const fenced = await producer
      .transaction(async (tx) => {
        await tx.send(output, [{ value: Buffer.from("zombie") }]);
      })
      .catch((e: unknown) => e);
    expect(fenced).toBeInstanceOf(KafkaError);
    expect((fenced as KafkaError).code).toMatch(/PRODUCER_FENCED|INVALID_PRODUCER_EPOCH/);
    await successor.transaction(async (tx) => {
      await tx.send(output, [{ value: Buffer.from("successor") }]);
    });
    await vi.waitFor(() => expect(seen.values()).toContain("successor"), WAIT);
    expect(seen.values()).not.toContain("zombie");
  });

  test("RegExp subscription picks up topics created later, and drops deleted ones", async ({ kafka, names }) => {
    const suffix = randomUUID().slice(0, 8);
    const topicA = names.topic(`pattern-${suffix}.a`);
    const topicB = names.topic(`pattern-${suffix}.b`);
    const topicC = names.topic(`pattern-${suffix}.c`);
    const pattern = new RegExp(`^it-kafka\\.pattern-${suffix}\\.`);
    await kafka.admin.ensureTopics([{ topic: topicA, partitions: 1 }]);
    const producer = kafka.createProducer();
    await producer.send(topicA, [{ value: Buffer.from("a-before-start") }]);

    const changes: Array<ConsumerEvents["subscriptionChanged"]> = [];
    const seen = collector();
    const consumer = kafka.createConsumer({
      groupId: names.group("pattern"),
      topics: [pattern],
      // Latest for topics that exist at start: a-before-start is skipped ...
      fromBeginning: false,
      topicRefreshIntervalMs: 500,
      maxWaitTimeMs: 200,
    });
    consumer.on("subscriptionChanged", (change) => {
      changes.push(change);
    });
    await runConsumer(consumer, { eachMessage: seen.eachMessage });
    expect(consumer.topics()).toEqual([topicA]);
    await vi.waitFor(async () => {
      await producer.send(topicA, [{ value: Buffer.from("a-live") }]);
      expect(seen.values()).toContain("a-live");
    }, WAIT);

    // ... but a topic that appears later is read from its beginning, including what was written
    // to it before the consumer noticed it.
    await kafka.admin.ensureTopics([{ topic: topicB, partitions: 1 }]);
    await producer.send(topicB, [{ value: Buffer.from("b-early") }]);
    await vi.waitFor(() => expect(seen.values()).toContain("b-early"), WAIT);
    expect(consumer.topics()).toEqual([topicA, topicB]);
    expect(changes[0]).toMatchObject({ added: [topicB], removed: [] });
    expect(seen.values()).not.toContain("a-before-start");

    // Deleting a topic: it leaves the subscription and the consumer keeps going.
    await kafka.admin.deleteTopics([topicA]);
    await vi.waitFor(() => expect(consumer.topics()).toEqual([topicB]), WAIT);
    await kafka.admin.ensureTopics([{ topic: topicC, partitions: 1 }]);
    await producer.send(topicC, [{ value: Buffer.from("c-1") }]);
    await vi.waitFor(() => expect(seen.values()).toContain("c-1"), WAIT);
    expect(consumer.status()).toBe("running");
  });

  test("RegExp subscription without polling: refreshSubscription() on demand, waiting while nothing matches", async ({
    kafka,
    names,
  }) => {
    const suffix = randomUUID().slice(0, 8);
    const topic = names.topic(`ondemand-${suffix}.x`);
    const seen = collector();
    const consumer = kafka.createConsumer({
      groupId: names.group("ondemand"),
      topics: [new RegExp(`^it-kafka\\.ondemand-${suffix}\\.`)],
      topicRefreshIntervalMs: 0,
    });
    await consumer.run({ eachMessage: seen.eachMessage });
    expect(consumer.status()).toBe("waiting-for-topics");
    expect(await consumer.refreshSubscription()).toEqual({ added: [], removed: [] });

    await kafka.admin.ensureTopics([{ topic, partitions: 1 }]);
    await kafka.createProducer().send(topic, [{ value: Buffer.from("x-1") }]);
    expect(await consumer.refreshSubscription()).toEqual({ added: [topic], removed: [] });
    await vi.waitFor(() => expect(seen.values()).toEqual(["x-1"]), WAIT);
  });

  test("handler errors: rethrow retries then crashes and restarts (pauses kept); skip goes on", async ({
    kafka,
    names,
    registry,
  }) => {
    const topic = names.topic("errors");
    await kafka.admin.ensureTopics([{ topic, partitions: 2 }]);
    const producer = kafka.createProducer();
    await producer.send(topic, [
      { value: Buffer.from("poison"), partition: 0 },
      { value: Buffer.from("paused"), partition: 1 },
    ]);

    const crashes: Array<ConsumerEvents["crash"]> = [];
    let attempts = 0;
    const consumer = kafka.createConsumer({
      groupId: names.group("errors"),
      topics: [topic],
      fromBeginning: true,
      retry: { retries: 1, initialRetryTimeMs: 50, maxRetryTimeMs: 200 },
    });
    consumer.on("crash", (event) => {
      crashes.push(event);
    });
    consumer.pause([{ topic, partitions: [1] }]);
    const handled: string[] = [];
    await runConsumer(consumer, {
      autoCommit: false,
      eachMessage: async (message) => {
        if (message.value?.toString() === "poison") {
          attempts += 1;
          if (attempts <= 3) throw new Error(`poison attempt ${attempts}`);
        }
        handled.push(message.value?.toString() ?? "");
      },
    });
    // Two attempts per run (1 retry), then a crash and a restart, then the third attempt fails
    // and the fourth succeeds.
    await vi.waitFor(() => expect(handled).toContain("poison"), WAIT);
    expect(attempts).toBe(4);
    expect(crashes.length).toBeGreaterThanOrEqual(1);
    expect(crashes[0]).toMatchObject({ restart: true });
    expect(crashes[0]!.error).toBeInstanceOf(KafkaError);
    await vi.waitFor(() => expect(consumer.status()).toBe("running"), WAIT);
    // The pause survived the restart (kafkajs alone would have forgotten it).
    expect(handled).not.toContain("paused");
    await producer.send(topic, [{ value: Buffer.from("p0-after"), partition: 0 }]);
    await vi.waitFor(() => expect(handled).toContain("p0-after"), WAIT);
    expect(handled).not.toContain("paused");
    consumer.resume([{ topic, partitions: [1] }]);
    await vi.waitFor(() => expect(handled).toContain("paused"), WAIT);

    // The skip policy: the failing message counts as handled.
    const skipped: string[] = [];
    const handled2: string[] = [];
    const skipper = kafka.createConsumer({ groupId: names.group("skip"), topics: [topic], fromBeginning: true });
    await runConsumer(skipper, {
      eachMessage: async (message) => {
        if (message.value?.toString() === "poison") throw new Error("always poison");
        handled2.push(message.value?.toString() ?? "");
      },
      onHandlerError: (_error, context) => {
        skipped.push(context.offset);
        return "skip";
      },
    });
    await vi.waitFor(() => expect(handled2.sort()).toEqual(["p0-after", "paused"]), WAIT);
    expect(skipped).toEqual(["0"]);

    const text = await registry.metrics();
    expect(text).toMatch(/test_kafka_consumer_handler_errors_total\{[^}]*outcome="rethrow"\} [1-9]/);
    expect(text).toMatch(/test_kafka_consumer_handler_errors_total\{[^}]*outcome="skip"\} 1/);
    expect(text).toMatch(/test_kafka_client_events_total\{[^}]*event="crash"\} [1-9]/);
    // The crash kafkajs restarted from also counts as a restart.
    expect(text).toMatch(/test_kafka_client_events_total\{[^}]*event="crash_restart"\} [1-9]/);
    expect(text).toMatch(/test_kafka_client_events_total\{[^}]*event="group_join"\} [1-9]/);
    expect(text).toMatch(/test_kafka_request_duration_seconds_count\{[^}]*api="Produce"\} [1-9]/);
  });

  test("eachBatch handler with explicit commit", async ({ kafka, names }) => {
    const topic = names.topic("batch");
    const groupId = names.group("batch");
    await kafka.admin.ensureTopics([{ topic, partitions: 1 }]);
    await kafka.createProducer().send(topic, values("m", 4).map((v) => ({ value: Buffer.from(v) })));
    const seen: string[] = [];
    const consumer = kafka.createConsumer({ groupId, topics: [topic], fromBeginning: true });
    await runConsumer(consumer, {
      autoCommit: false,
      eachBatch: async (batch, context) => {
        for (const message of batch.messages) {
          if (!context.isRunning() || context.isStale()) return;
          seen.push(message.value?.toString() ?? "");
          context.resolveOffset(message.offset);
        }
        const last = batch.messages[batch.messages.length - 1];
        if (last) await consumer.commit([{ topic, partition: batch.partition, offset: nextOffset(last.offset) }]);
      },
    });
    await vi.waitFor(() => expect(seen).toEqual(values("m", 4)), WAIT);
    await vi.waitFor(
      async () => expect(await kafka.admin.fetchGroupOffsets(groupId, [topic])).toEqual([{ topic, partition: 0, offset: "4" }]),
      WAIT,
    );
  });

  test("disconnect waits for handlers in flight and closes the client", async ({ registry, names }) => {
    const kafka = newClient(registry, "kafka-adapter-test-shutdown");
    const topic = names.topic("shutdown");
    await kafka.admin.ensureTopics([{ topic, partitions: 1 }]);
    await kafka.createProducer().send(topic, [{ value: Buffer.from("slow") }]);

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = false;
    let finished = false;
    const consumer = kafka.createConsumer({ groupId: names.group("shutdown"), topics: [topic], fromBeginning: true });
    await runConsumer(consumer, {
      eachMessage: async () => {
        started = true;
        await gate;
        finished = true;
      },
    });
    await vi.waitFor(() => expect(started).toBe(true), WAIT);
    let closed = false;
    const closing = kafka.disconnect().then(() => {
      closed = true;
    });
    // A broker round trip later (the admin closes last), the client is still waiting for the handler.
    await kafka.admin.listTopics();
    expect(closed).toBe(false);
    release();
    await closing;
    expect(finished).toBe(true);
    expect(consumer.status()).toBe("stopped");
    expect(() => kafka.createProducer()).toThrow(KafkaError);
    await expect(kafka.admin.listTopics()).rejects.toMatchObject({ code: "DISCONNECTED" });
  });
});
