import type { Logger } from "pino";
import { Gauge, type Registry } from "prom-client";
import type { KafkaAdmin } from "./kafka-admin.js";

/** One consumer group whose lag is read, and which topics it reads. */
export interface LaggingGroup {
  groupId: string;
  /** The group's topics: a regular expression over every topic (a pattern subscription) or names. */
  topics: RegExp | readonly string[];
  /**
   * The group that commits each topic, when its topics are split over several groups (the
   * sender's shards); `groupId` is then only the label the lag is reported under.
   */
  groupIdOf?: (topic: string) => string;
}

/** Messages behind per group and topic kind. */
export type LagByKind = Map<string, Map<string, number>>;

/** One partition's end offset (log end) and the group's committed offset (null: never committed). */
export interface PartitionLagInput {
  topic: string;
  partition: number;
  high: string;
  low: string;
  committed: string | null;
}

/**
 * Messages behind summed per topic kind. A partition the group never committed counts from the
 * first offset still in the log (what a new member starting from the beginning would read).
 * `kindOf` turns a topic into a bounded label: never the topic itself (one topic per endpoint).
 */
export function sumLagByKind(partitions: readonly PartitionLagInput[], kindOf: (topic: string) => string): Map<string, number> {
  const lag = new Map<string, number>();
  for (const { topic, high, low, committed } of partitions) {
    const from = committed === null || BigInt(committed) < 0n ? BigInt(low) : BigInt(committed);
    const behind = BigInt(high) - from;
    const kind = kindOf(topic);
    lag.set(kind, (lag.get(kind) ?? 0) + (behind > 0n ? Number(behind) : 0));
  }
  return lag;
}

export interface ConsumerLagReaderOptions {
  admin: Pick<KafkaAdmin, "listTopics" | "fetchGroupOffsets" | "fetchPartitionOffsets">;
  groups: readonly LaggingGroup[];
  kindOf: (topic: string) => string;
  registry: Registry;
  logger: Logger;
  /** How often lag is read, in milliseconds: on a timer, never per scrape. */
  intervalMs: number;
  /** Called with each read's figures (e.g. the sender's retry backlog per tier). */
  onRead?: (lag: LagByKind) => void;
}

export interface ConsumerLagReader {
  /** Reads once now (the timer does it every `intervalMs`); resolves with what it set. */
  read(): Promise<LagByKind>;
  stop(): void;
}


/**
 * `novatrade_kafka_consumer_lag_messages{group_id, topic_kind}`: committed offsets (one
 * OffsetFetch per group) against end offsets (one ListOffsets per broker), read on a timer so a
 * scrape costs nothing. A failed read keeps the previous figures and is logged: lag is a
 * symptom, never a reason to stop a service. Duration of each read:
 * `novatrade_kafka_consumer_lag_read_seconds`.
 */
export function startConsumerLagReader(options: ConsumerLagReaderOptions): ConsumerLagReader {
  const { admin, groups, kindOf, registry, logger } = options;
  const gauge = existingOr(registry, "novatrade_kafka_consumer_lag_messages", () =>
    new Gauge({ name: "novatrade_kafka_consumer_lag_messages", help: "Messages not yet consumed by a group, by topic kind (end offset minus committed offset)", labelNames: ["group_id", "topic_kind"] as const, registers: [registry] }),
  );
  const readSeconds = existingOr(registry, "novatrade_kafka_consumer_lag_read_seconds", () =>
    new Gauge({ name: "novatrade_kafka_consumer_lag_read_seconds", help: "How long the last consumer lag read took, in seconds", registers: [registry] }),
  );

  const read = async (): Promise<LagByKind> => {
    const started = performance.now();
    const all = await admin.listTopics();
    const result: LagByKind = new Map();
    const topicsOf = (group: LaggingGroup) =>
      group.topics instanceof RegExp ? all.filter((topic) => (group.topics as RegExp).test(topic)) : group.topics.filter((topic) => all.includes(topic));
    for (const group of groups) {
      const topics = topicsOf(group);
      if (topics.length === 0) continue;
      // The group's OffsetFetch names every partition of its topics, committed or not; their
      // ends and starts then come in one ListOffsets per broker each, however many endpoint
      // topics there are (one request per topic took seconds at 10,000 endpoints).
      const committed = await committedOffsets(admin, group, topics);
      const selection = new Map<string, number[]>();
      for (const row of committed) selection.set(row.topic, [...(selection.get(row.topic) ?? []), row.partition]);
      const selected = [...selection].map(([topic, partitions]) => ({ topic, partitions }));
      const [highs, lows] = await Promise.all([admin.fetchPartitionOffsets(selected, "latest"), admin.fetchPartitionOffsets(selected, "earliest")]);
      const key = (row: { topic: string; partition: number }) => `${row.topic}:${row.partition}`;
      const highOf = new Map(highs.map((row) => [key(row), row.offset]));
      const lowOf = new Map(lows.map((row) => [key(row), row.offset]));
      const partitions: PartitionLagInput[] = committed
        .filter((row) => highOf.has(key(row)) && lowOf.has(key(row)))
        .map((row) => ({ topic: row.topic, partition: row.partition, high: highOf.get(key(row))!, low: lowOf.get(key(row))!, committed: row.offset }));
      result.set(group.groupId, sumLagByKind(partitions, kindOf));
    }
    gauge.reset();
    for (const [groupId, kinds] of result) for (const [kind, lag] of kinds) gauge.set({ group_id: groupId, topic_kind: kind }, lag);
    readSeconds.set((performance.now() - started) / 1000);
    options.onRead?.(result);
    return result;
  };

  let running: Promise<unknown> | null = null;
  const tick = () => {
    if (running) return; // a slow read is never overlapped by the next
    running = read()
      .catch((error: unknown) => logger.warn({ err: error }, "could not read consumer lag; keeping the last figures"))
      .finally(() => (running = null));
  };
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  tick();
  return { read, stop: () => clearInterval(timer) };
}

async function committedOffsets(admin: Pick<KafkaAdmin, "fetchGroupOffsets">, group: LaggingGroup, topics: string[]) {
  const groupIdOf = group.groupIdOf;
  if (!groupIdOf) return admin.fetchGroupOffsets(group.groupId, topics);
  const byGroup = new Map<string, string[]>();
  for (const topic of topics) byGroup.set(groupIdOf(topic), [...(byGroup.get(groupIdOf(topic)) ?? []), topic]);
  const parts = await Promise.all([...byGroup].map(([groupId, ofGroup]) => admin.fetchGroupOffsets(groupId, ofGroup)));
  return parts.flat();
}

function existingOr<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}
