import type { Producer as ClientProducer, ProducerBatch, RecordMetadata } from "kafkajs";
import { pino } from "pino";
import { Registry } from "prom-client";
import { describe, expect, test } from "vitest";
import { KafkaError } from "./kafka-error.js";
import { createKafkaMetrics } from "./kafka-metrics.js";
import { createKafkaProducer } from "./kafka-producer.js";
import { PartitionChoices } from "./partition-choices.js";

/**
 * A client producer that partitions like kafkajs (by calling the recording partitioner's
 * choices) and answers with the acknowledgements `answer` gives: how kafkajs 2.2.4 behaves
 * when, after a leader move, it skips a partition and still resolves.
 */
function fakeClientProducer(choices: PartitionChoices, answer: (partitions: Array<{ topic: string; partition: number }>) => RecordMetadata[]) {
  const events = { CONNECT: "connect", DISCONNECT: "disconnect", REQUEST: "request", REQUEST_TIMEOUT: "request_timeout", REQUEST_QUEUE_SIZE: "request_queue_size" };
  const producer = {
    events,
    on: () => () => undefined,
    connect: async () => undefined,
    disconnect: async () => undefined,
    sendBatch: async ({ topicMessages = [] }: ProducerBatch) => {
      const partitions: Array<{ topic: string; partition: number }> = [];
      for (const { topic, messages } of topicMessages) {
        messages.forEach((message, index) => {
          const partition = index % 2; // two partitions, alternating
          choices.record(message, partition);
          if (!partitions.some((entry) => entry.topic === topic && entry.partition === partition)) partitions.push({ topic, partition });
        });
      }
      return answer(partitions);
    },
  };
  return producer as unknown as ClientProducer;
}

function producerWith(answer: (partitions: Array<{ topic: string; partition: number }>) => RecordMetadata[]) {
  const registry = new Registry();
  const partitionChoices = new PartitionChoices();
  return createKafkaProducer({
    createClientProducer: () => fakeClientProducer(partitionChoices, answer),
    partitionChoices,
    metrics: createKafkaMetrics({ registry, prefix: "test_kafka_", clientId: "test" }),
    logger: pino({ level: "silent" }),
  });
}

const ack = ({ topic, partition }: { topic: string; partition: number }): RecordMetadata => ({ topicName: topic, partition, errorCode: 0, baseOffset: "7" });
const messages = [{ key: "a", value: Buffer.from("1") }, { key: "b", value: Buffer.from("2") }, { key: "c", value: Buffer.from("3") }];

describe("IdempotentProducer acknowledgements", () => {
  test("every partition written is acknowledged: the acks are returned", async () => {
    const producer = producerWith((partitions) => partitions.map(ack));
    await expect(producer.send("t", messages)).resolves.toEqual([
      { topic: "t", partition: 0, baseOffset: "7" },
      { topic: "t", partition: 1, baseOffset: "7" },
    ]);
  });

  test("a send the client reports as done without one partition's acknowledgement fails, retriable, naming the partition", async () => {
    const producer = producerWith((partitions) => partitions.filter((entry) => entry.partition === 0).map(ack));
    const failure = await producer.send("t", messages).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(KafkaError);
    expect(failure).toMatchObject({ retriable: true, code: "UNACKNOWLEDGED_PARTITIONS" });
    expect((failure as Error).message).toContain("t[1] (1 messages)");
  });
});

describe("IdempotentProducer renewal", () => {
  test("a send failing with OUT_OF_ORDER_SEQUENCE_NUMBER is sent again on a fresh producer, and later sends use that one", async () => {
    const registry = new Registry();
    const partitionChoices = new PartitionChoices();
    const created: number[] = [];
    const producer = createKafkaProducer({
      createClientProducer: () => {
        const id = created.length;
        created.push(id);
        const client = fakeClientProducer(partitionChoices, (partitions) => partitions.map(ack));
        if (id === 0) {
          // kafkajs' protocol error for a sequence the broker no longer expects; not retriable for kafkajs.
          client.sendBatch = async () => Promise.reject(Object.assign(new Error("out of order sequence"), { name: "KafkaJSProtocolError", type: "OUT_OF_ORDER_SEQUENCE_NUMBER", retriable: false }));
        }
        return client;
      },
      partitionChoices,
      metrics: createKafkaMetrics({ registry, prefix: "test_kafka_", clientId: "test" }),
      logger: pino({ level: "silent" }),
    });
    await expect(producer.send("t", messages)).resolves.toHaveLength(2);
    await expect(producer.send("t", messages)).resolves.toHaveLength(2);
    expect(created).toEqual([0, 1]);
  });
});
