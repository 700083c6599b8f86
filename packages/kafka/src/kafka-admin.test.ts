import { pino } from "pino";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createKafkaAdmin } from "./kafka-admin.js";
import { createKafkaMetrics } from "./kafka-metrics.js";

/** A kafkajs admin whose fetchTopicOffsets fails with `failures` (kafkajs error shapes) first. */
function adminFailingWith(failures: Array<{ type: string; retriable: boolean }>) {
  let calls = 0;
  const client = {
    events: { CONNECT: "connect", DISCONNECT: "disconnect", REQUEST: "request", REQUEST_TIMEOUT: "request_timeout", REQUEST_QUEUE_SIZE: "request_queue_size" },
    on: () => () => {},
    connect: async () => {},
    disconnect: async () => {},
    fetchTopicOffsets: async () => {
      const failure = failures[calls++];
      if (failure) throw Object.assign(new Error(failure.type), { name: "KafkaJSProtocolError", ...failure });
      return [{ partition: 0, offset: "7", high: "7", low: "0" }];
    },
  };
  const admin = createKafkaAdmin(
    {
      createClientAdmin: () => client as never,
      createClientConsumer: () => {
        throw new Error("not used");
      },
      metrics: createKafkaMetrics({ registry: new Registry(), prefix: "test_", clientId: "c" }),
      logger: pino({ level: "silent" }),
    },
    { operationTimeoutMs: 30_000 },
  );
  return { admin, calls: () => calls };
}

describe("offsets reads while a partition's leadership settles", () => {
  it("a read answered 'not the leader' (a topic just created) is made again until the leader acts as one", async () => {
    const { admin, calls } = adminFailingWith([
      { type: "NOT_LEADER_FOR_PARTITION", retriable: true },
      { type: "LEADER_NOT_AVAILABLE", retriable: true },
    ]);
    expect(await admin.fetchTopicOffsets("t")).toEqual([{ partition: 0, high: "7", low: "0" }]);
    expect(calls()).toBe(3);
  });

  it("any other failure is reported at once", async () => {
    const { admin, calls } = adminFailingWith([{ type: "TOPIC_AUTHORIZATION_FAILED", retriable: false }]);
    await expect(admin.fetchTopicOffsets("t")).rejects.toThrow(/fetch offsets of t failed/);
    expect(calls()).toBe(1);
  });
});
