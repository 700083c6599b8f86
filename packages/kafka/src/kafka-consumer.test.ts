import type { Consumer as ClientConsumer } from "kafkajs";
import { pino } from "pino";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createKafkaConsumer, type KafkaConsumer } from "./kafka-consumer.js";
import { createKafkaMetrics } from "./kafka-metrics.js";

/**
 * The adapter's pause/seek bookkeeping against a scripted stand-in for the kafkajs consumer: the
 * group's life (join, crash, join again) is driven by the test, which is what kafkajs does not
 * let a real broker do on demand. The real broker behaviour is in test/integration/kafka-adapter.
 */
function scriptedClient() {
  const listeners = new Map<string, Array<(event: { payload: unknown }) => void>>();
  const applied: string[] = [];
  let live = false;
  const events = Object.fromEntries(
    ["GROUP_JOIN", "CRASH", "REBALANCING", "REQUEST_TIMEOUT", "STOP", "COMMIT_OFFSETS", "END_BATCH_PROCESS", "RECEIVED_UNSUBSCRIBED_TOPICS", "CONNECT", "DISCONNECT", "REQUEST", "REQUEST_QUEUE_SIZE"].map((name) => [name, name]),
  );
  const inner = {
    events,
    on(name: string, listener: (event: { payload: unknown }) => void) {
      const list = listeners.get(name) ?? [];
      list.push(listener);
      listeners.set(name, list);
      return () => list.splice(list.indexOf(listener), 1);
    },
    connect: async () => {},
    subscribe: async () => {},
    run: async () => {},
    disconnect: async () => {},
    commitOffsets: async () => {},
    // kafkajs throws on pause/seek while it has no consumer group.
    pause: (selection: unknown) => {
      if (!live) throw new Error("no consumer group");
      applied.push(`pause ${JSON.stringify(selection)}`);
    },
    resume: (selection: unknown) => {
      if (!live) throw new Error("no consumer group");
      applied.push(`resume ${JSON.stringify(selection)}`);
    },
    seek: (position: { topic: string; partition: number; offset: string }) => {
      if (!live) throw new Error("no consumer group");
      applied.push(`seek ${position.topic}/${position.partition}@${position.offset}`);
    },
  };
  const emit = (name: string, payload: unknown) => {
    for (const listener of [...(listeners.get(name) ?? [])]) listener({ payload });
  };
  return {
    inner: inner as unknown as ClientConsumer,
    applied,
    join(assignment: Record<string, number[]>) {
      live = true;
      emit("GROUP_JOIN", { groupId: "g", memberId: "m", leaderId: "m", isLeader: true, memberAssignment: assignment, duration: 1 });
    },
    crash() {
      live = false;
      emit("CRASH", { groupId: "g", error: new Error("broker gone"), restart: true });
    },
  };
}

async function runningConsumer(): Promise<{ consumer: KafkaConsumer; client: ReturnType<typeof scriptedClient> }> {
  const client = scriptedClient();
  const consumer = createKafkaConsumer(
    { groupId: "g", topics: ["t"] },
    {
      createClientConsumer: () => client.inner,
      listTopics: async () => ["t"],
      metrics: createKafkaMetrics({ registry: new Registry(), prefix: "test_", clientId: "c" }),
      logger: pino({ level: "silent" }),
    },
  );
  await consumer.run({ eachMessage: async () => {} });
  client.join({ t: [0, 1] });
  return { consumer, client };
}

describe("pause, seek and resume cannot half-happen", () => {
  it("a seek asked while the group is being rebuilt does not throw and is applied at the next join", async () => {
    const { consumer, client } = await runningConsumer();
    client.crash();
    expect(consumer.status()).toBe("restarting");
    expect(() => consumer.seek({ topic: "t", partition: 1, offset: "7" })).not.toThrow();
    client.join({ t: [0, 1] });
    expect(client.applied).toContain("seek t/1@7");
  });

  it("pauseAt during a rebuild: after the next join the partition is both paused and sought, and resume undoes the pause", async () => {
    const { consumer, client } = await runningConsumer();
    client.crash();
    expect(() => consumer.pauseAt({ topic: "t", partition: 0, offset: "3" })).not.toThrow();
    expect(consumer.isPaused("t", 0)).toBe(true);
    client.join({ t: [0, 1] });
    expect(client.applied).toEqual([`pause ${JSON.stringify([{ topic: "t", partitions: [0] }])}`, "seek t/0@3"]);
    consumer.resume([{ topic: "t", partitions: [0] }]);
    expect(consumer.isPaused("t", 0)).toBe(false);
    expect(client.applied.at(-1)).toBe(`resume ${JSON.stringify([{ topic: "t", partitions: [0] }])}`);
  });

  it("pauseAt on a live group applies both at once; a seek is applied only once", async () => {
    const { consumer, client } = await runningConsumer();
    consumer.pauseAt({ topic: "t", partition: 1, offset: "9" });
    expect(client.applied.filter((entry) => entry.startsWith("seek"))).toEqual(["seek t/1@9"]);
    client.join({ t: [0, 1] });
    expect(client.applied.filter((entry) => entry.startsWith("seek"))).toEqual(["seek t/1@9"]);
    expect(consumer.isPaused("t", 1)).toBe(true);
  });

  it("a pending seek of a partition this member lost is dropped (its new owner reads from the commit)", async () => {
    const { consumer, client } = await runningConsumer();
    client.crash();
    consumer.seek({ topic: "t", partition: 1, offset: "4" });
    client.join({ t: [0] });
    client.join({ t: [0, 1] });
    expect(client.applied.filter((entry) => entry.startsWith("seek"))).toEqual([]);
  });
});
