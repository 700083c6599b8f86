import { pino } from "pino";
import { Registry } from "prom-client";
import { test as base, describe, expect } from "vitest";
import { createKafka, startConsumerLagReader, type KafkaClient } from "@novatrade/kafka";
import { infraEnv } from "../support/infra-env.js";
import { kafkaNamesFixture, type Names } from "../support/kafka-names.js";
import { waitUntil } from "../support/wait-until.js";

/*
 * The consumer lag reader against the real broker: committed offsets against end offsets, summed
 * by topic kind (never a topic name as a label), and what one read costs with many topics.
 */

function newClient(clientId: string): KafkaClient {
  return createKafka({ brokers: infraEnv.kafkaBrokers, clientId, logger: pino({ level: "silent" }), registry: new Registry(), metricsPrefix: "test_kafka_" });
}

const test = base.extend<{ names: Names; kafka: KafkaClient }>({
  names: kafkaNamesFixture("it-lag", () => newClient("consumer-lag-test-cleanup")),
  kafka: async ({ names }, use) => {
    void names;
    const kafka = newClient("consumer-lag-test");
    await use(kafka);
    await kafka.disconnect();
  },
});

describe("consumer lag reader", () => {
  test("reports end minus committed per group and topic kind, and follows commits", async ({ names, kafka }) => {
    const endpoints = [names.topic("delivery-a"), names.topic("delivery-b"), names.topic("delivery-c")];
    const other = names.topic("outcomes");
    const group = names.group("lagging");
    await kafka.admin.ensureTopics([...endpoints, other].map((topic) => ({ topic, partitions: 2 })));
    const producer = kafka.createProducer();
    await producer.connect();
    for (const topic of endpoints) await producer.send(topic, [0, 1, 2, 3, 4].map((i) => ({ value: Buffer.from(`m${i}`), partition: i % 2 })));
    await producer.send(other, [{ value: Buffer.from("x"), partition: 0 }, { value: Buffer.from("y"), partition: 0 }, { value: Buffer.from("z"), partition: 1 }]);
    // The group read delivery-a's partition 0 to its end (3 records) and 1 record of `other`.
    await kafka.admin.setGroupOffsets(group, [
      { topic: endpoints[0]!, partition: 0, offset: "3" },
      { topic: other, partition: 0, offset: "1" },
    ]);

    const registry = new Registry();
    const reader = startConsumerLagReader({
      admin: kafka.admin,
      groups: [{ groupId: group, topics: new RegExp(`^it-lag\\.(delivery-[abc]|outcomes)\\.`) }],
      kindOf: (topic) => (topic.startsWith("it-lag.delivery-") ? "delivery" : "delivery_outcome"),
      registry,
      logger: pino({ level: "silent" }),
      intervalMs: 3_600_000,
    });
    try {
      const lag = await reader.read();
      // 15 delivery records, 3 committed; 3 outcome records, 1 committed.
      expect(Object.fromEntries(lag.get(group)!)).toEqual({ delivery: 12, delivery_outcome: 2 });
      const text = await registry.metrics();
      expect(text).toContain(`novatrade_kafka_consumer_lag_messages{group_id="${group}",topic_kind="delivery"} 12`);
      expect(text).not.toContain("delivery-a"); // never a topic name in a label

      await kafka.admin.setGroupOffsets(
        group,
        [...endpoints, other].flatMap((topic) => [0, 1].map((partition) => ({ topic, partition, offset: topic === other ? (partition === 0 ? "2" : "1") : partition === 0 ? "3" : "2" }))),
      );
      expect(Object.fromEntries((await reader.read()).get(group)!)).toEqual({ delivery: 0, delivery_outcome: 0 });
    } finally {
      reader.stop();
      await producer.disconnect();
    }
  });

  test("cost of one read over many endpoint topics", async ({ names, kafka }) => {
    const count = Number(process.env.LAG_BENCH_TOPICS ?? 60);
    const topics = Array.from({ length: count }, (_, i) => names.topic(`cost-${i}`));
    await kafka.admin.ensureTopics(topics.map((topic) => ({ topic, partitions: 1 })));
    const registry = new Registry();
    const reader = startConsumerLagReader({
      admin: kafka.admin,
      groups: [{ groupId: names.group("cost"), topics }],
      kindOf: () => "delivery",
      registry,
      logger: pino({ level: "silent" }),
      intervalMs: 3_600_000,
    });
    try {
      // Right after creation a topic's leader may not be known yet (such a topic is left out of a
      // read); the cost is measured once every topic answers.
      await waitUntil(() => Promise.all(topics.map((topic) => kafka.admin.fetchTopicOffsets(topic))).then(() => true, () => false), { what: "every topic's leader known" });
      const lag = await reader.read();
      expect(lag.get(names.group("cost"))?.get("delivery")).toBe(0);
      const seconds = (await registry.getSingleMetricAsString("novatrade_kafka_consumer_lag_read_seconds")).match(/ ([0-9.e-]+)$/m)?.[1];
      console.log(`consumer lag read over ${count} topics: ${Number(seconds).toFixed(3)} s`);
      expect(Number(seconds)).toBeGreaterThan(0);
    } finally {
      reader.stop();
    }
  });
});
