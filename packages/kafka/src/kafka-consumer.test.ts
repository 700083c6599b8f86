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
  let runConfig: { eachBatch?: (payload: unknown) => Promise<void> } | undefined;
  /** kafkajs's pause state, as `partition:topic`, per partition (whole-topic calls: the assigned ones). */
  const pausedNow = new Set<string>();
  let assigned: Record<string, number[]> = {};
  const track = (selection: Array<{ topic: string; partitions?: number[] }>, paused: boolean) => {
    for (const { topic, partitions } of selection) {
      for (const partition of partitions ?? assigned[topic] ?? []) {
        if (paused) pausedNow.add(`${partition}:${topic}`);
        else pausedNow.delete(`${partition}:${topic}`);
      }
    }
  };
  const events = Object.fromEntries(
    ["GROUP_JOIN", "CRASH", "START_BATCH_PROCESS", "REBALANCING", "REQUEST_TIMEOUT", "STOP", "COMMIT_OFFSETS", "END_BATCH_PROCESS", "RECEIVED_UNSUBSCRIBED_TOPICS", "CONNECT", "DISCONNECT", "REQUEST", "REQUEST_QUEUE_SIZE"].map((name) => [name, name]),
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
    run: async (config: unknown) => {
      runConfig = config as typeof runConfig;
    },
    disconnect: async () => {},
    commitOffsets: async () => {},
    // kafkajs throws on pause/seek while it has no consumer group.
    pause: (selection: unknown) => {
      if (!live) throw new Error("no consumer group");
      applied.push(`pause ${JSON.stringify(selection)}`);
      track(selection as Array<{ topic: string; partitions?: number[] }>, true);
    },
    resume: (selection: unknown) => {
      if (!live) throw new Error("no consumer group");
      applied.push(`resume ${JSON.stringify(selection)}`);
      track(selection as Array<{ topic: string; partitions?: number[] }>, false);
    },
    paused: () => {
      const byTopic = new Map<string, number[]>();
      for (const key of pausedNow) {
        const [partition, topic] = [Number(key.slice(0, key.indexOf(":"))), key.slice(key.indexOf(":") + 1)];
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
      }
      return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
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
    /** What the adapter handed to kafkajs's run (its eachBatch wrapper). */
    runConfig: () => runConfig,
    /** Whether kafkajs would name this partition in its fetches. */
    fetches: (topic: string, partition: number) => live && (assigned[topic] ?? []).includes(partition) && !pausedNow.has(`${partition}:${topic}`),
    batch(topic: string, partition: number, firstOffset: string, lastOffset: string) {
      emit("START_BATCH_PROCESS", { topic, partition, firstOffset, lastOffset });
    },
    join(assignment: Record<string, number[]>) {
      live = true;
      assigned = assignment;
      pausedNow.clear();
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

describe("work gate (readOnlyWithWork) and the caller's pauses compose", () => {
  /** Lets the adapter's poll (microtask at join, promises of the fake offsets) run to its end. */
  const settle = async () => {
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  async function workConsumer(committed: Record<string, string | null>, ends: Record<string, string>, lingerMs = 0) {
    const client = scriptedClient();
    const consumer = createKafkaConsumer(
      { groupId: "g", topics: ["t"], readOnlyWithWork: { pollIntervalMs: 3_600_000, lingerMs } },
      {
        createClientConsumer: () => client.inner,
        listTopics: async () => ["t"],
        offsets: {
          fetchCommittedOffsets: async (_groupId, selection) =>
            selection.flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition, offset: committed[`${topic}/${partition}`] ?? null }))),
          fetchPartitionOffsets: async (selection, which) =>
            selection.flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition, offset: which === "earliest" ? "0" : ends[`${topic}/${partition}`]! }))),
        },
        metrics: createKafkaMetrics({ registry: new Registry(), prefix: "test_", clientId: "c" }),
        logger: pino({ level: "silent" }),
      },
    );
    await consumer.run({ eachMessage: async () => {} });
    client.join({ t: [0, 1] });
    await settle();
    return { consumer, client };
  }

  it("only the partition with records is fetched; caught up by a batch, it is paused again", async () => {
    const { consumer, client } = await workConsumer({ "t/0": "2", "t/1": "7" }, { "t/0": "5", "t/1": "7" });
    expect([client.fetches("t", 0), client.fetches("t", 1)]).toEqual([true, false]);
    expect(consumer.workPartitions()).toEqual({ active: 1, idle: 1, lingering: 0, fetching: 1 });
    client.batch("t", 0, "2", "4");
    expect(client.fetches("t", 0)).toBe(false);
    expect(consumer.workPartitions()).toEqual({ active: 0, idle: 2, lingering: 0, fetching: 0 });
  });

  it("with lingerMs, a caught-up partition stays fetched, then is paused by the linger timer", async () => {
    const { consumer, client } = await workConsumer({ "t/0": "2", "t/1": "7" }, { "t/0": "5", "t/1": "7" }, 40);
    client.batch("t", 0, "2", "4");
    expect(client.fetches("t", 0)).toBe(true);
    expect(consumer.workPartitions()).toEqual({ active: 1, idle: 1, lingering: 1, fetching: 1 });
    const deadline = Date.now() + 30_000;
    while (client.fetches("t", 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(client.fetches("t", 0)).toBe(false);
    expect(consumer.workPartitions()).toEqual({ active: 0, idle: 2, lingering: 0, fetching: 0 });
    await consumer.disconnect();
  });

  it("a partition without a commit starts where the group would (latest here, fromBeginning false): nothing to fetch", async () => {
    const { client } = await workConsumer({}, { "t/0": "3", "t/1": "0" });
    expect([client.fetches("t", 0), client.fetches("t", 1)]).toEqual([false, false]);
  });

  it("a partition held by the caller stays paused although it has work, and is fetched once released", async () => {
    const { consumer, client } = await workConsumer({ "t/0": "2", "t/1": "7" }, { "t/0": "5", "t/1": "7" });
    consumer.pauseAt({ topic: "t", partition: 0, offset: "3" });
    expect(client.fetches("t", 0)).toBe(false);
    consumer.resume([{ topic: "t", partitions: [0] }]);
    expect(client.fetches("t", 0)).toBe(true);
  });

  it("resuming a partition without work (caller's release) does not make it fetched", async () => {
    const { consumer, client } = await workConsumer({ "t/0": "2", "t/1": "7" }, { "t/0": "5", "t/1": "7" });
    consumer.pause([{ topic: "t" }]);
    expect([client.fetches("t", 0), client.fetches("t", 1)]).toEqual([false, false]);
    consumer.resume([{ topic: "t" }]);
    expect([client.fetches("t", 0), client.fetches("t", 1)]).toEqual([true, false]);
  });

  it("a seek back on a caught-up partition gives it work again", async () => {
    const { consumer, client } = await workConsumer({ "t/0": "5", "t/1": "7" }, { "t/0": "5", "t/1": "7" });
    expect(client.fetches("t", 0)).toBe(false);
    consumer.seek({ topic: "t", partition: 0, offset: "1" });
    expect(client.fetches("t", 0)).toBe(true);
  });
});

describe("heartbeats while a handler runs", () => {
  it("a batch handler that runs longer than the heartbeat interval keeps the member alive", async () => {
    const client = scriptedClient();
    const consumer = createKafkaConsumer(
      { groupId: "g", topics: ["t"], heartbeatIntervalMs: 5 },
      {
        createClientConsumer: () => client.inner,
        listTopics: async () => ["t"],
        metrics: createKafkaMetrics({ registry: new Registry(), prefix: "test_", clientId: "c" }),
        logger: pino({ level: "silent" }),
      },
    );
    let beats = 0;
    let beaten: () => void = () => {};
    const twoBeats = new Promise<void>((resolve) => (beaten = resolve));
    // The handler returns only once kafkajs's heartbeat was called twice while it ran.
    await consumer.run({ eachBatch: async () => twoBeats });
    client.join({ t: [0] });
    const payload = {
      batch: { topic: "t", partition: 0, highWatermark: "1", messages: [], firstOffset: () => null },
      heartbeat: async () => {
        if (++beats === 2) beaten();
      },
      resolveOffset: () => {},
      isRunning: () => true,
      isStale: () => false,
    };
    // Without beats from the adapter the handler never returns and this times out.
    await client.runConfig()!.eachBatch!(payload);
    expect(beats).toBeGreaterThanOrEqual(2);
  });
});

describe("subscribeAlso", () => {
  it("topics asked for while a re-subscription waits its turn join it: one rebuild of the client consumer, not one each", async () => {
    let created = 0;
    const subscribedTopics: string[][] = [];
    const consumer = createKafkaConsumer(
      { groupId: "g", topics: [/^t/], topicRefreshIntervalMs: 0 },
      {
        createClientConsumer: () => {
          created++;
          const { inner } = scriptedClient();
          return { ...inner, subscribe: async ({ topics }: { topics: string[] }) => void subscribedTopics.push(topics) } as unknown as ReturnType<typeof scriptedClient>["inner"];
        },
        listTopics: async () => ["t1"],
        metrics: createKafkaMetrics({ registry: new Registry(), prefix: "test_", clientId: "c" }),
        logger: pino({ level: "silent" }),
      },
    );
    await consumer.run({ eachMessage: async () => {} });
    expect(created).toBe(1);
    const changes = await Promise.all([consumer.subscribeAlso(["t2"]), consumer.subscribeAlso(["t3"]), consumer.subscribeAlso(["t4", "x9"])]);
    expect(created).toBe(2);
    expect(consumer.topics().sort()).toEqual(["t1", "t2", "t3", "t4"]);
    expect(changes.map((change) => change.added.sort())).toEqual([["t2", "t3", "t4"], ["t2", "t3", "t4"], ["t2", "t3", "t4"]]);
    // Asked for after that one began: a re-subscription of its own.
    await consumer.subscribeAlso(["t5"]);
    expect([created, consumer.topics().includes("t5")]).toEqual([3, true]);
    await consumer.subscribeAlso(["t5"]); // nothing new: no rebuild
    expect(created).toBe(3);
    await consumer.disconnect();
  });
});
