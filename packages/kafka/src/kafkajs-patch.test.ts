import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";

// kafkajs 2.2.4 joins a group in time quadratic in the subscribed topics (an object spread per
// topic, a scan of all topic metadata per topic): ~176 s at 10,000 topics on this machine.
// patches/kafkajs+2.2.4.patch (applied by patch-package at npm install) makes those linear.
const require = createRequire(import.meta.url);
const kafkajsRoot = path.dirname(require.resolve("kafkajs/package.json"));
const internal = (file: string): unknown => require(path.join(kafkajsRoot, "src", file));

interface TopicMetadata {
  topic: string;
  partitionMetadata: Array<{ partitionId: number; leader: number }>;
}

const TOPICS = 10_000;
const topicNames = Array.from({ length: TOPICS }, (_, i) => `nt.delivery.ep_${i.toString(16).padStart(8, "0")}`);
const partitionsOf = (i: number) => 1 + (i % 3);
const metadataOf = (topics: string[]): { topicMetadata: TopicMetadata[] } => ({
  topicMetadata: topics.map((topic, i) => ({ topic, partitionMetadata: Array.from({ length: partitionsOf(i) }, (_, partitionId) => ({ partitionId, leader: 1 })) })),
});

describe("kafkajs patch (linear group join)", () => {
  it.each([
    "src/utils/arrayDiff.js",
    "src/consumer/subscriptionState.js",
    "src/consumer/consumerGroup.js",
    "src/cluster/index.js",
    "src/cluster/brokerPool.js",
  ])("is applied to %s", (file) => {
    expect(readFileSync(path.join(kafkajsRoot, file), "utf8")).toContain("Patched (novatrade)");
  });

  it("adding target topics the cluster already targets neither copies the 10,000 of them nor refreshes metadata; a new one does both", async () => {
    // Every offsets request of a consumer or admin names its topics as targets (the work gate's
    // polls, ten times a second under load): kafkajs copied the whole set each time.
    let iterations = 0;
    class CountingSet<T> extends Set<T> {
      override [Symbol.iterator]() {
        iterations++;
        return super[Symbol.iterator]();
      }
    }
    const Cluster = internal("cluster/index.js") as { prototype: { addMultipleTargetTopics(this: unknown, topics: string[]): Promise<void> } };
    let refreshes = 0;
    const cluster = {
      mutatingTargetTopics: { acquire: async () => {}, release: async () => {} },
      targetTopics: new CountingSet(topicNames),
      brokerPool: { metadata: metadataOf([]) },
      refreshMetadata: async () => void refreshes++,
    };
    await Cluster.prototype.addMultipleTargetTopics.call(cluster, topicNames.slice(0, 100));
    expect({ iterations, refreshes }).toEqual({ iterations: 0, refreshes: 0 });
    await Cluster.prototype.addMultipleTargetTopics.call(cluster, ["nt.delivery.new"]);
    expect(refreshes).toBe(1);
    expect(cluster.targetTopics.has("nt.delivery.new")).toBe(true);
  });

  it("assigns every partition of 10,000 topics to exactly one member, round robin", async () => {
    const Cluster = internal("cluster/index.js") as { prototype: { findTopicPartitionMetadata(topic: string): unknown } };
    const cluster = { brokerPool: { metadata: metadataOf(topicNames) }, findTopicPartitionMetadata: Cluster.prototype.findTopicPartitionMetadata };
    const assigners = require("kafkajs") as { PartitionAssigners: { roundRobin: (config: { cluster: unknown }) => { assign(group: unknown): Promise<Array<{ memberId: string; memberAssignment: Buffer }>> } }; AssignerProtocol: { MemberAssignment: { decode(buffer: Buffer): { assignment: Record<string, number[]> } } } };
    const assigner = assigners.PartitionAssigners.roundRobin({ cluster });

    const result = await assigner.assign({ members: [{ memberId: "b" }, { memberId: "a" }], topics: topicNames });

    const owners = new Map<string, string>();
    const counts = new Map<string, number>();
    for (const { memberId, memberAssignment } of result) {
      const { assignment } = assigners.AssignerProtocol.MemberAssignment.decode(memberAssignment);
      for (const [topic, partitions] of Object.entries(assignment)) {
        for (const partition of partitions) {
          const key = `${topic}:${partition}`;
          expect(owners.has(key)).toBe(false);
          owners.set(key, memberId);
          counts.set(memberId, (counts.get(memberId) ?? 0) + 1);
        }
      }
    }
    const total = topicNames.reduce((sum, _topic, i) => sum + partitionsOf(i), 0);
    expect(owners.size).toBe(total);
    expect(Math.abs((counts.get("a") ?? 0) - (counts.get("b") ?? 0))).toBeLessThanOrEqual(1);
  });

  it("finds a topic's partitions in a replaced metadata response, not in the one indexed before", () => {
    const Cluster = internal("cluster/index.js") as { prototype: { findTopicPartitionMetadata(this: unknown, topic: string): Array<{ partitionId: number }> } };
    const cluster = { brokerPool: { metadata: metadataOf(["a", "b"]) } };
    const find = (topic: string) => Cluster.prototype.findTopicPartitionMetadata.call(cluster, topic).map((p) => p.partitionId);
    expect(find("b")).toEqual([0, 1]);
    expect(find("c")).toEqual([]);
    cluster.brokerPool.metadata = metadataOf(["c", "b", "a"]);
    expect(find("c")).toEqual([0]);
    expect(find("b")).toEqual([0, 1]);
  });

  it("counts changes of the pause state, so an all-paused consumer skips its per-partition work until one", () => {
    const SubscriptionState = internal("consumer/subscriptionState.js") as new () => { version: number; assign(topics: Array<{ topic: string; partitions: number[] }>): void; pause(topics: Array<{ topic: string; partitions?: number[] }>): void; resume(topics: Array<{ topic: string; partitions?: number[] }>): void };
    const state = new SubscriptionState();
    const versions = [state.version];
    state.assign([{ topic: "a", partitions: [0] }]);
    versions.push(state.version);
    state.pause([{ topic: "a", partitions: [0] }]);
    versions.push(state.version);
    state.resume([{ topic: "a", partitions: [0] }]);
    versions.push(state.version);
    expect(new Set(versions).size).toBe(4);
  });

  it("keeps the assignment of 10,000 topics by topic when the consumer records it", () => {
    const SubscriptionState = internal("consumer/subscriptionState.js") as new () => { assign(topics: Array<{ topic: string; partitions: number[] }>): void; assigned(): Array<{ topic: string; partitions: number[] }> };
    const arrayDiff = internal("utils/arrayDiff.js") as (a: string[], b: string[]) => string[];
    const state = new SubscriptionState();
    state.assign(topicNames.map((topic, i) => ({ topic, partitions: [i % 7] })));
    const assigned = state.assigned();
    expect(assigned).toHaveLength(TOPICS);
    expect(assigned[4321]).toEqual({ topic: topicNames[4321], partitions: [4321 % 7] });
    expect(arrayDiff(topicNames, topicNames.slice(1))).toEqual([topicNames[0]]);
    expect(arrayDiff(["x", "y", "x"], ["y"])).toEqual(["x", "x"]);
  });
});
