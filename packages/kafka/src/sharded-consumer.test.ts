import { describe, expect, test } from "vitest";
import type { ConsumerEvents } from "./consumer-events.js";
import type { ConsumerStatus, KafkaConsumer } from "./kafka-consumer.js";
import { Listeners } from "./listeners.js";
import { createShardedConsumer } from "./sharded-consumer.js";
import type { TopicPartitionOffset, TopicPartitions } from "./topic-partitions.js";

/** A shard that records what it was asked and can emit events. */
function fakeShard(groupId: string) {
  const listeners = new Listeners<ConsumerEvents>((error) => {
    throw error;
  });
  const calls: string[] = [];
  let status: ConsumerStatus = "running";
  let assignment: TopicPartitions[] = [];
  const shard = {
    groupId,
    calls,
    setStatus: (next: ConsumerStatus) => (status = next),
    join(next: TopicPartitions[]) {
      assignment = next;
      listeners.emit("groupJoin", { groupId, memberId: "m", leaderId: "m", isLeader: true, assignment: next, durationMs: 1 });
    },
    rebalance() {
      assignment = [];
      listeners.emit("rebalancing", { groupId, memberId: "m" });
    },
    run: async () => void calls.push("run"),
    commit: async (offsets: TopicPartitionOffset[]) => void calls.push(`commit ${offsets.map(({ topic }) => topic).join(",")}`),
    pause: (selection: TopicPartitions[]) => void calls.push(`pause ${selection.map(({ topic }) => topic).join(",")}`),
    resume: (selection: TopicPartitions[]) => void calls.push(`resume ${selection.map(({ topic }) => topic).join(",")}`),
    isPaused: () => false,
    seek: (position: TopicPartitionOffset) => void calls.push(`seek ${position.topic}`),
    pauseAt: (position: TopicPartitionOffset) => void calls.push(`pauseAt ${position.topic}`),
    assignment: () => assignment,
    workPartitions: () => ({ active: 1, idle: 2, fetching: 1 }),
    checkForWork: (topics: readonly string[]) => void calls.push(`check ${topics.join(",")}`),
    topics: () => assignment.map(({ topic }) => topic),
    refreshSubscription: async () => ({ added: [], removed: [] }),
    subscribeAlso: async (topics: readonly string[]) => {
      calls.push(`subscribeAlso ${topics.join(",")}`);
      return { added: [...topics], removed: [] };
    },
    status: () => status,
    on: <E extends keyof ConsumerEvents>(event: E, listener: (payload: ConsumerEvents[E]) => void) => listeners.on(event, listener),
    disconnect: async () => void calls.push("disconnect"),
  };
  return shard satisfies KafkaConsumer & Record<string, unknown>;
}

/** Topics `a*` in shard 0, the rest in shard 1. */
const shardIndexOf = (topic: string) => (topic.startsWith("a") ? 0 : 1);

describe("sharded consumer", () => {
  test("calls about a topic go to its shard only", async () => {
    const shards = [fakeShard("g.0"), fakeShard("g.1")];
    const consumer = createShardedConsumer(shards, shardIndexOf, () => {});
    consumer.pause([{ topic: "a1" }, { topic: "b1" }, { topic: "a2" }]);
    consumer.seek({ topic: "b1", partition: 0, offset: "3" });
    consumer.pauseAt({ topic: "a1", partition: 0, offset: "1" });
    consumer.checkForWork(["b2", "a3"]);
    await consumer.subscribeAlso(["a4"]);
    await consumer.commit([{ topic: "a1", partition: 0, offset: "5" }]);
    expect(shards[0]!.calls).toEqual(["pause a1,a2", "pauseAt a1", "check a3", "subscribeAlso a4", "commit a1"]);
    expect(shards[1]!.calls).toEqual(["pause b1", "seek b1", "check b2"]);
    expect(consumer.shardOf("b9").groupId).toBe("g.1");
  });

  test("a join reports every shard's partitions as of its last join, even while another shard rebalances", () => {
    const shards = [fakeShard("g.0"), fakeShard("g.1")];
    const consumer = createShardedConsumer(shards, shardIndexOf, () => {});
    const joins: Array<{ groupId: string; topics: string[] }> = [];
    consumer.on("groupJoin", ({ groupId, assignment }) => void joins.push({ groupId, topics: assignment.map(({ topic }) => topic) }));
    shards[0]!.join([{ topic: "a1", partitions: [0] }]);
    shards[1]!.join([{ topic: "b1", partitions: [0] }]);
    shards[0]!.rebalance();
    shards[1]!.join([{ topic: "b1", partitions: [0] }, { topic: "b2", partitions: [0] }]);
    expect(joins).toEqual([
      { groupId: "g.0", topics: ["a1"] },
      { groupId: "g.1", topics: ["a1", "b1"] },
      { groupId: "g.1", topics: ["a1", "b1", "b2"] },
    ]);
  });

  test("a commit to every shard is tried even when one fails; the failure is reported", async () => {
    const shards = [fakeShard("g.0"), fakeShard("g.1")];
    shards[0]!.commit = async () => Promise.reject(new Error("rebalancing"));
    const consumer = createShardedConsumer(shards, shardIndexOf, () => {});
    await expect(consumer.commit([{ topic: "a1", partition: 0, offset: "1" }, { topic: "b1", partition: 0, offset: "1" }])).rejects.toThrow("rebalancing");
    expect(shards[1]!.calls).toEqual(["commit b1"]);
  });

  test("status is the worst shard's; shards without topics count as fine", () => {
    const shards = [fakeShard("g.0"), fakeShard("g.1"), fakeShard("g.2")];
    const consumer = createShardedConsumer(shards, shardIndexOf, () => {});
    shards[2]!.setStatus("waiting-for-topics");
    expect(consumer.status()).toBe("running");
    shards[1]!.setStatus("restarting");
    expect(consumer.status()).toBe("restarting");
    shards[0]!.setStatus("crashed");
    expect(consumer.status()).toBe("crashed");
    for (const shard of shards) shard.setStatus("waiting-for-topics");
    expect(consumer.status()).toBe("waiting-for-topics");
  });

  test("work partitions are summed over the shards", () => {
    const consumer = createShardedConsumer([fakeShard("g.0"), fakeShard("g.1")], shardIndexOf, () => {});
    expect(consumer.workPartitions()).toEqual({ active: 2, idle: 4, fetching: 2 });
  });
});
