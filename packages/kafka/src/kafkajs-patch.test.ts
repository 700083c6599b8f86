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
    "src/admin/index.js",
    "src/network/requestQueue/index.js",
    "src/consumer/runner.js",
    "src/consumer/index.js",
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

  it("a producer's new target topic fetches and merges that topic's metadata only, not all 10,000 targeted", async () => {
    const Cluster = internal("cluster/index.js") as { prototype: { addMultipleTargetTopics(this: unknown, topics: string[]): Promise<void> } };
    const BrokerPool = internal("cluster/brokerPool.js") as { prototype: { addTopicMetadata(this: unknown, topics: string[]): Promise<void> } };
    const requested: string[][] = [];
    let fullRefreshes = 0;
    let brokersInResponse = [{ nodeId: 1 }];
    const brokerPool = {
      metadata: { brokers: [{ nodeId: 1 }], ...metadataOf(topicNames) },
      metadataExpireAt: 12_345,
      retrier: (fn: (bail: (error: unknown) => never, retryCount: number, retryTime: number) => Promise<unknown>) => fn((error) => { throw error; }, 0, 0),
      findConnectedBroker: async () => ({
        metadata: async (topics: string[]) => {
          requested.push(topics);
          return { brokers: brokersInResponse, ...metadataOf(topics) };
        },
      }),
      refreshMetadata: async () => void fullRefreshes++,
      addTopicMetadata: BrokerPool.prototype.addTopicMetadata,
    };
    const cluster = {
      mutatingTargetTopics: { acquire: async () => {}, release: async () => {} },
      targetTopics: new Set(topicNames),
      brokerPool,
      refreshMetadata: async () => void fullRefreshes++,
    };
    await Cluster.prototype.addMultipleTargetTopics.call(cluster, [topicNames[5]!, "nt.delivery.new"]);
    expect({ requested, fullRefreshes }).toEqual({ requested: [["nt.delivery.new"]], fullRefreshes: 0 });
    const names = brokerPool.metadata.topicMetadata.map(({ topic }) => topic);
    expect([names.length, new Set(names).size, names.at(-1)]).toEqual([TOPICS + 1, TOPICS + 1, "nt.delivery.new"]);
    expect(brokerPool.metadataExpireAt).toBe(12_345); // the periodic full refresh stays due when it was
    // A broker the loaded metadata does not know: the cluster changed, refresh it all.
    brokersInResponse = [{ nodeId: 1 }, { nodeId: 2 }];
    await Cluster.prototype.addMultipleTargetTopics.call(cluster, ["nt.delivery.newer"]);
    expect(fullRefreshes).toBe(1);
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

  it("refreshes metadata for offsets only when it is missing, old, or lacks a leader of a partition asked for", async () => {
    const Cluster = internal("cluster/index.js") as { prototype: { findTopicPartitionMetadata(topic: string): unknown; refreshMetadataUnlessCurrent(this: unknown, topics: Array<{ topic: string; partitions: number[] }>, maxAgeMs: number): Promise<void> } };
    const now = Date.now();
    let refreshes = 0;
    // An admin's broker pool: metadataMaxAge 0, so metadataExpireAt is when it was refreshed.
    const cluster = {
      brokerPool: { metadata: metadataOf(["a", "b"]) as ReturnType<typeof metadataOf> | null, metadataExpireAt: now as number | null, metadataMaxAge: 0 },
      findTopicPartitionMetadata: Cluster.prototype.findTopicPartitionMetadata,
      refreshMetadata: async () => void refreshes++,
    };
    const refreshesFor = async (topics: Array<{ topic: string; partitions: number[] }>, maxAgeMs = 300_000) => {
      refreshes = 0;
      await Cluster.prototype.refreshMetadataUnlessCurrent.call(cluster, topics, maxAgeMs);
      return refreshes;
    };
    expect(await refreshesFor([{ topic: "a", partitions: [0] }, { topic: "b", partitions: [0, 1] }])).toBe(0);
    expect(await refreshesFor([{ topic: "b", partitions: [2] }])).toBe(1); // a partition it does not know
    expect(await refreshesFor([{ topic: "c", partitions: [0] }])).toBe(1); // a topic it does not know
    cluster.brokerPool.metadataExpireAt = now - 400_000;
    expect(await refreshesFor([{ topic: "a", partitions: [0] }])).toBe(1); // older than the max age
    cluster.brokerPool.metadataExpireAt = now;
    cluster.brokerPool.metadata = { topicMetadata: [{ topic: "a", partitionMetadata: [{ partitionId: 0, leader: -1 }] }] };
    expect(await refreshesFor([{ topic: "a", partitions: [0] }])).toBe(1); // no leader
    cluster.brokerPool.metadata = null;
    cluster.brokerPool.metadataExpireAt = null;
    expect(await refreshesFor([])).toBe(1);
  });

  it("reads offsets of known partitions without a Metadata request, and refreshes once and retries when a read fails", async () => {
    const createAdmin = internal("admin/index.js") as (params: { logger: unknown; retry: unknown; cluster: unknown }) => {
      fetchPartitionsOffset(options: { topics: Array<{ topic: string; partitions: number[] }>; fromBeginning?: boolean }): Promise<unknown>;
      fetchTopicPartitionIds(options: { topics: string[] }): Promise<Array<{ topic: string; partitions: number[] }>>;
    };
    const Cluster = internal("cluster/index.js") as { prototype: { findTopicPartitionMetadata(topic: string): unknown; refreshMetadataUnlessCurrent(topics: unknown, maxAgeMs: number): Promise<void> } };
    const calls: string[] = [];
    let failNext = false;
    const cluster = {
      brokerPool: { metadata: metadataOf(topicNames.slice(0, 3)), metadataExpireAt: Date.now(), metadataMaxAge: 0 },
      addMultipleTargetTopics: async () => void calls.push("targets"),
      refreshMetadataIfNecessary: async () => void calls.push("refreshIfNecessary"),
      refreshMetadata: async () => void calls.push("refresh"),
      findTopicPartitionMetadata: Cluster.prototype.findTopicPartitionMetadata,
      refreshMetadataUnlessCurrent: Cluster.prototype.refreshMetadataUnlessCurrent,
      fetchTopicsOffset: async (request: unknown) => {
        calls.push("listOffsets");
        if (failNext) {
          failNext = false;
          throw new Error("This server is not the leader for that topic-partition");
        }
        return request;
      },
    };
    const silent = { info() {}, warn() {}, error() {}, debug() {} };
    const admin = createAdmin({ logger: { namespace: () => silent }, retry: {}, cluster });
    const topics = [{ topic: topicNames[0]!, partitions: [0] }, { topic: topicNames[1]!, partitions: [0, 1] }];

    await admin.fetchPartitionsOffset({ topics });
    expect(calls).toEqual(["targets", "listOffsets"]);
    calls.length = 0;
    failNext = true;
    await admin.fetchPartitionsOffset({ topics });
    expect(calls).toEqual(["targets", "listOffsets", "refresh", "listOffsets"]);

    calls.length = 0;
    expect(await admin.fetchTopicPartitionIds({ topics: [topicNames[1]!, topicNames[2]!] })).toEqual([
      { topic: topicNames[1], partitions: [0, 1] },
      { topic: topicNames[2], partitions: [0, 1, 2] },
    ]);
    expect(calls).toEqual(["targets"]);
    calls.length = 0;
    await admin.fetchTopicPartitionIds({ topics: [topicNames[3]!] });
    expect(calls).toEqual(["targets", "refresh"]);
  });

  it("schedules no check of a request queue with nothing pending and no throttle, and one while a request waits", () => {
    const RequestQueue = internal("network/requestQueue/index.js") as new (options: Record<string, unknown>) => {
      pending: unknown[];
      throttledUntil: number;
      throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
      checkPendingRequests(): void;
      scheduleCheckPendingRequests(): void;
    };
    const silent = { debug() {}, info() {}, warn() {}, error() {} };
    const queue = new RequestQueue({ maxInFlightRequests: null, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: "test", broker: "b:1", logger: silent });
    queue.checkPendingRequests();
    expect(queue.throttleCheckTimeoutId).toBeNull();
    // Throttled by the broker with a request waiting: it is checked again later.
    queue.throttledUntil = Date.now() + 60_000;
    queue.pending.push({});
    queue.scheduleCheckPendingRequests();
    expect(queue.throttleCheckTimeoutId).not.toBeNull();
    clearTimeout(queue.throttleCheckTimeoutId!);
  });

  it("ends a wait for a change of the pause state at a resume, an assignment or a stop, and only then", async () => {
    const SubscriptionState = internal("consumer/subscriptionState.js") as new () => {
      assign(topics: Array<{ topic: string; partitions: number[] }>): void;
      pause(topics: Array<{ topic: string; partitions?: number[] }>): void;
      resume(topics: Array<{ topic: string; partitions?: number[] }>): void;
      waitForChange(ms: number): Promise<void>;
      wakeWaiters(): void;
    };
    const state = new SubscriptionState();
    state.assign([{ topic: "a", partitions: [0, 1] }]);
    state.pause([{ topic: "a", partitions: [0, 1] }]);
    const hourMs = 3_600_000;
    const ended = async (wait: Promise<void>, change: () => void) => {
      let done = false;
      void wait.then(() => (done = true));
      await Promise.resolve();
      const before = done;
      change();
      await Promise.resolve();
      return { before, after: done };
    };
    expect(await ended(state.waitForChange(hourMs), () => state.resume([{ topic: "a", partitions: [1] }]))).toEqual({ before: false, after: true });
    expect(await ended(state.waitForChange(hourMs), () => state.assign([{ topic: "b", partitions: [0] }]))).toEqual({ before: false, after: true });
    expect(await ended(state.waitForChange(hourMs), () => state.wakeWaiters())).toEqual({ before: false, after: true });
    // Nothing pending after a wake-up: no timer of an hour is left behind.
    expect((state as unknown as { changeWaiters: Set<unknown> }).changeWaiters.size).toBe(0);
  });

  it("lets a consumer whose every partition is paused wait until its next heartbeat, and a resume cut the wait short", async () => {
    const ConsumerGroup = internal("consumer/consumerGroup.js") as { prototype: { fetch(this: unknown, nodeId: number): Promise<unknown[]> } };
    const SubscriptionState = internal("consumer/subscriptionState.js") as new () => {
      assign(topics: Array<{ topic: string; partitions: number[] }>): void;
      pause(topics: Array<{ topic: string; partitions?: number[] }>): void;
      resume(topics: Array<{ topic: string; partitions?: number[] }>): void;
      waitForChange(ms: number): Promise<void>;
    };
    const subscriptionState = new SubscriptionState();
    subscriptionState.assign([{ topic: "a", partitions: [0] }]);
    subscriptionState.pause([{ topic: "a", partitions: [0] }]);
    const waits: number[] = [];
    const wrapped = subscriptionState.waitForChange.bind(subscriptionState);
    subscriptionState.waitForChange = (ms) => {
      waits.push(ms);
      return wrapped(ms);
    };
    const group = { subscriptionState, maxWaitTime: 100, idleFetchWaitTime: 3_000, logger: { debug() {} } };
    let fetched = false;
    const fetching = ConsumerGroup.prototype.fetch.call(group, 1).then((batches) => {
      fetched = true;
      return batches;
    });
    await Promise.resolve();
    expect(fetched).toBe(false);
    subscriptionState.resume([{ topic: "a", partitions: [0] }]);
    expect(await fetching).toEqual([]);
    expect(waits).toEqual([3_000]);
  });

  it("lists every topic without refreshing the admin's metadata first once it has some", async () => {
    const Cluster = internal("cluster/index.js") as { prototype: { metadata(this: unknown, options?: { topics?: string[] }): Promise<unknown> } };
    const calls: string[] = [];
    const cluster = {
      retrier: (run: (bail: (error: unknown) => never) => Promise<unknown>) => run((error) => { throw error; }),
      brokerPool: {
        metadata: metadataOf(["a"]) as ReturnType<typeof metadataOf> | null,
        refreshMetadataIfNecessary: async (topics: string[]) => void calls.push(`refresh ${topics.length}`),
        withBroker: async (use: (pool: { broker: { metadata(topics: string[]): Promise<unknown> } }) => Promise<unknown>) =>
          use({ broker: { metadata: async (topics) => void calls.push(`metadata ${topics.length}`) } }),
      },
    };
    await Cluster.prototype.metadata.call(cluster);
    await Cluster.prototype.metadata.call(cluster, { topics: ["a", "b"] });
    cluster.brokerPool.metadata = null;
    await Cluster.prototype.metadata.call(cluster);
    expect(calls).toEqual(["metadata 0", "refresh 2", "metadata 2", "refresh 0", "metadata 0"]);
  });
});
