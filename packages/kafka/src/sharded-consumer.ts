import type { ConsumerEvents } from "./consumer-events.js";
import type { ConsumerStatus, KafkaConsumer, RunOptions } from "./kafka-consumer.js";
import { Listeners, type Listener } from "./listeners.js";
import type { TopicPartitionOffset, TopicPartitions } from "./topic-partitions.js";
import type { TopicSetChange } from "./topic-subscription.js";

/** How bad a shard's status is: the composite reports its worst shard's. */
const STATUS_SEVERITY: Record<ConsumerStatus, number> = {
  running: 0,
  "waiting-for-topics": 0,
  starting: 1,
  idle: 2,
  restarting: 3,
  stopped: 4,
  crashed: 5,
};

export interface ShardedConsumer extends KafkaConsumer {
  /** The shard consumer (and group) that reads `topic`. */
  shardOf(topic: string): KafkaConsumer;
  readonly shards: readonly KafkaConsumer[];
}

/**
 * Several consumers, each in a group of its own and each reading the topics `shardOf` gives it,
 * seen as one consumer. Why: a group rebalances as a whole whenever its topic set changes, and a
 * group of thousands of topics takes seconds to; split over shards, a new topic rebalances only
 * its shard's group while the others keep reading.
 *
 * Calls about a topic (pause, seek, commit, work) go to its shard. `assignment()` and the
 * `groupJoin` event carry every shard's partitions as of that shard's last join, so a listener
 * that forgets what is no longer assigned never forgets another shard's partitions because one
 * shard rejoined. Status is the worst shard's (a shard without topics counts as fine).
 */
export function createShardedConsumer(
  shards: readonly KafkaConsumer[],
  shardIndexOf: (topic: string) => number,
  onListenerError: (error: unknown, event: string) => void,
): ShardedConsumer {
  if (shards.length === 0) throw new RangeError("a sharded consumer needs at least one shard");
  const first = shards[0]!;
  const shardOf = (topic: string): KafkaConsumer => shards[shardIndexOf(topic)] ?? first;
  const listeners = new Listeners<ConsumerEvents>(onListenerError);
  /** Each shard's assignment at its last join (kept while it rebalances). */
  const lastAssignment = new Map<KafkaConsumer, TopicPartitions[]>();
  const allAssigned = () => shards.flatMap((shard) => lastAssignment.get(shard) ?? []);
  const byShard = <T extends { topic: string }>(items: readonly T[]) => {
    const split = new Map<KafkaConsumer, T[]>();
    for (const item of items) {
      const shard = shardOf(item.topic);
      split.set(shard, [...(split.get(shard) ?? []), item]);
    }
    return split;
  };

  for (const shard of shards) {
    shard.on("groupJoin", (event) => {
      lastAssignment.set(shard, event.assignment);
      listeners.emit("groupJoin", { ...event, assignment: allAssigned() });
    });
    const forward = <E extends keyof ConsumerEvents>(event: E) => shard.on(event, (payload) => listeners.emit(event, payload));
    for (const event of ["rebalancing", "crash", "requestTimeout", "subscriptionChanged"] as const) forward(event);
  }

  return {
    groupId: first.groupId,
    shards,
    shardOf,
    async run(options: RunOptions) {
      await Promise.all(shards.map((shard) => shard.run(options)));
    },
    async commit(offsets: TopicPartitionOffset[]) {
      const results = await Promise.allSettled([...byShard(offsets)].map(([shard, part]) => shard.commit(part)));
      const failed = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
      if (failed) throw failed.reason;
    },
    pause(selection) {
      for (const [shard, part] of byShard(selection)) shard.pause(part);
    },
    resume(selection) {
      for (const [shard, part] of byShard(selection)) shard.resume(part);
    },
    isPaused: (topic, partition) => shardOf(topic).isPaused(topic, partition),
    seek: (position) => shardOf(position.topic).seek(position),
    pauseAt: (position) => shardOf(position.topic).pauseAt(position),
    assignment: () => shards.flatMap((shard) => shard.assignment()),
    workPartitions() {
      const counts = shards.map((shard) => shard.workPartitions());
      if (counts.every((count) => count === null)) return null;
      return counts.reduce<{ active: number; idle: number; fetching: number }>(
        (sum, count) => ({ active: sum.active + (count?.active ?? 0), idle: sum.idle + (count?.idle ?? 0), fetching: sum.fetching + (count?.fetching ?? 0) }),
        { active: 0, idle: 0, fetching: 0 },
      );
    },
    checkForWork(topics) {
      for (const [shard, part] of byShard(topics.map((topic) => ({ topic })))) shard.checkForWork(part.map(({ topic }) => topic));
    },
    topics: () => shards.flatMap((shard) => shard.topics()).sort(),
    async subscribeAlso(topics: readonly string[]): Promise<TopicSetChange> {
      const changes = await Promise.all([...byShard(topics.map((topic) => ({ topic })))].map(([shard, part]) => shard.subscribeAlso(part.map(({ topic }) => topic))));
      return { added: changes.flatMap(({ added }) => added), removed: changes.flatMap(({ removed }) => removed) };
    },
    async refreshSubscription(): Promise<TopicSetChange> {
      const changes = await Promise.all(shards.map((shard) => shard.refreshSubscription()));
      return { added: changes.flatMap(({ added }) => added), removed: changes.flatMap(({ removed }) => removed) };
    },
    status() {
      const statuses = shards.map((shard) => shard.status());
      const worst = statuses.reduce((bad, status) => (STATUS_SEVERITY[status] > STATUS_SEVERITY[bad] ? status : bad));
      if (STATUS_SEVERITY[worst] > 0) return worst;
      return statuses.includes("running") ? "running" : "waiting-for-topics";
    },
    on<E extends keyof ConsumerEvents>(event: E, listener: Listener<ConsumerEvents[E]>) {
      return listeners.on(event, listener);
    },
    async disconnect() {
      await Promise.all(shards.map((shard) => shard.disconnect()));
    },
  };
}
