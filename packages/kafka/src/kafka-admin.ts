import kafkajs from "kafkajs";
import type { Admin as ClientAdmin, Consumer as ClientConsumer, ConsumerConfig } from "kafkajs";
import type { Logger } from "pino";
import { instrumentNetwork, type InstrumentationSource } from "./client-instrumentation.js";
import { writeIdleGroupOffsets } from "./group-offsets-writer.js";
import { KafkaError, toKafkaError } from "./kafka-error.js";
import type { KafkaMetrics } from "./kafka-metrics.js";
import { isStaleTopicFailure, RenewableClient } from "./renewable-client.js";
import type { TopicPartitionOffset, TopicPartitions } from "./topic-partitions.js";

const { AssignerProtocol } = kafkajs;

/** Broker error codes that mean a partition's leadership is moving or not yet in place. */
const LEADERSHIP_SETTLING = new Set(["NOT_LEADER_FOR_PARTITION", "LEADER_NOT_AVAILABLE"]);

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Copies of each partition; the broker's `default.replication.factor` when omitted. */
  replicationFactor?: number;
  /** Topic configs, e.g. `{ "retention.ms": 2592000000, "cleanup.policy": "compact" }`. */
  config?: Record<string, string | number>;
}

export interface EnsureTopicsResult {
  created: string[];
  /** Topics that already existed; they are left as they are (partitions and configs untouched). */
  existing: string[];
}

export interface PartitionOffsets {
  partition: number;
  /** First offset still in the log. */
  low: string;
  /** Offset the next record will get (log end); `high - low` records are readable. */
  high: string;
}

export interface PartitionOffset {
  partition: number;
  offset: string;
}

/** Some partitions of one topic, named. */
export interface PartitionSelection {
  topic: string;
  partitions: number[];
}

/** What patches/kafkajs+2.2.4.patch adds to kafkajs's admin (not in its type declarations). */
interface PatchedClientAdmin {
  fetchPartitionsOffset(options: { topics: PartitionSelection[]; fromBeginning: boolean }): Promise<Array<{ topic: string; partitions: PartitionOffset[] }>>;
  fetchGroupPartitionOffsets(options: { groupId: string; topics: PartitionSelection[] }): Promise<Array<{ topic: string; partitions: PartitionOffset[] }>>;
  fetchTopicPartitionIds(options: { topics: string[] }): Promise<PartitionSelection[]>;
}

export interface GroupMember {
  memberId: string;
  clientId: string;
  clientHost: string;
  assignment: TopicPartitions[];
}

export interface GroupDescription {
  groupId: string;
  /** `Empty`, `Stable`, `PreparingRebalance`, `CompletingRebalance`, `Dead` (never existed or deleted). */
  state: string;
  /** Partition assignor in use (`RoundRobinAssigner` for kafkajs members). */
  protocol: string;
  members: GroupMember[];
}

export interface KafkaAdmin {
  connect(): Promise<void>;
  /** Creates the topics that do not exist yet and waits for their leaders. Safe to call again. */
  ensureTopics(specs: TopicSpec[]): Promise<EnsureTopicsResult>;
  /** Deletes those of `topics` that exist; returns the ones it deleted. */
  deleteTopics(topics: string[]): Promise<string[]>;
  listTopics(): Promise<string[]>;
  /** Low and high watermarks per partition, in partition order. */
  fetchTopicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /**
   * Per partition, the first offset whose record timestamp is at or after `timestampMs`
   * (milliseconds since the epoch); the high watermark where no record is that recent.
   */
  fetchTopicOffsetsByTimestamp(topic: string, timestampMs: number): Promise<PartitionOffset[]>;
  /**
   * The earliest or latest (last stable: read committed) offset of each given partition, in one
   * ListOffsets request per broker: cheap enough to poll thousands of partitions every 250 ms.
   */
  fetchPartitionOffsets(selection: PartitionSelection[], which: "earliest" | "latest"): Promise<TopicPartitionOffset[]>;
  /** Committed positions of a group for the given partitions, in one request; null where none. */
  fetchCommittedOffsets(groupId: string, selection: PartitionSelection[]): Promise<Array<{ topic: string; partition: number; offset: string | null }>>;
  /** Committed positions of a group; `offset` is null where the group never committed. */
  fetchGroupOffsets(groupId: string, topics: string[]): Promise<Array<{ topic: string; partition: number; offset: string | null }>>;
  /**
   * Writes committed positions for a group with no running member (Kafka refuses commits from
   * outside an active group): stop the group's consumers first. Throws code NON_EMPTY_GROUP otherwise.
   */
  setGroupOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void>;
  /** Replay: moves an idle group on `topics` back (or forward) to `timestampMs`. Returns what it set. */
  resetGroupOffsetsToTimestamp(groupId: string, topics: string[], timestampMs: number): Promise<TopicPartitionOffset[]>;
  describeGroup(groupId: string): Promise<GroupDescription>;
  /** Ids of every consumer group the cluster knows. */
  listGroups(): Promise<string[]>;
  /** Deletes idle groups and their committed offsets; ignores groups that do not exist. */
  deleteGroups(groupIds: string[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface AdminOptions {
  /** Topic creation/deletion timeout and group offset reset timeout, in milliseconds. Default 30000. */
  operationTimeoutMs?: number;
}

export interface AdminDependencies {
  createClientAdmin(): ClientAdmin;
  createClientConsumer(config: ConsumerConfig): ClientConsumer;
  metrics: KafkaMetrics;
  logger: Logger;
}

function decodeAssignment(buffer: Buffer): TopicPartitions[] {
  if (buffer.length === 0) return [];
  const decoded = AssignerProtocol.MemberAssignment.decode(buffer);
  if (!decoded) return [];
  return Object.entries(decoded.assignment)
    .map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }))
    .sort((a, b) => a.topic.localeCompare(b.topic));
}

class Admin implements KafkaAdmin {
  private readonly client: RenewableClient<ClientAdmin>;
  private readonly timeoutMs: number;
  private readonly logger: Logger;

  constructor(
    private readonly deps: AdminDependencies,
    options: AdminOptions,
  ) {
    this.timeoutMs = options.operationTimeoutMs ?? 30_000;
    const logger = deps.logger.child({ component: "kafka-admin" });
    this.logger = logger;
    this.client = new RenewableClient({
      name: "admin",
      create: () => {
        const admin = deps.createClientAdmin();
        return { client: admin, detach: instrumentNetwork(admin as unknown as InstrumentationSource, "admin", deps.metrics, logger) };
      },
      shouldRenew: isStaleTopicFailure,
      onRenew: (error) => logger.warn({ err: error }, "kafka admin replaced after UNKNOWN_TOPIC_OR_PARTITION: kafkajs keeps failing once a topic it used is deleted"),
    });
  }

  connect(): Promise<void> {
    return this.client.connect();
  }

  disconnect(): Promise<void> {
    return this.client.disconnect();
  }

  async ensureTopics(specs: TopicSpec[]): Promise<EnsureTopicsResult> {
    return this.call("ensure topics", async (admin) => {
      const present = new Set(await admin.listTopics());
      const missing = specs.filter(({ topic }) => !present.has(topic));
      const existing = specs.filter(({ topic }) => present.has(topic)).map(({ topic }) => topic);
      if (missing.length > 0) {
        const allNew = await admin.createTopics({
          waitForLeaders: true,
          timeout: this.timeoutMs,
          topics: missing.map((spec) => ({
            topic: spec.topic,
            numPartitions: spec.partitions,
            ...(spec.replicationFactor === undefined ? {} : { replicationFactor: spec.replicationFactor }),
            configEntries: Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value: String(value) })),
          })),
        });
        // false: someone else created some of them between the list and the create. kafkajs
        // skips waiting for leaders then, so wait here.
        if (!allNew) await this.waitForLeaders(admin, missing.map(({ topic }) => topic));
      }
      await this.warnOnPartitionMismatch(admin, specs.filter(({ topic }) => present.has(topic)));
      if (missing.length > 0) this.logger.info({ topics: missing.map(({ topic }) => topic) }, "kafka topics created");
      return { created: missing.map(({ topic }) => topic), existing };
    });
  }

  async deleteTopics(topics: string[]): Promise<string[]> {
    return this.call("delete topics", async (admin) => {
      const present = new Set(await admin.listTopics());
      const doomed = topics.filter((topic) => present.has(topic));
      if (doomed.length > 0) await admin.deleteTopics({ topics: doomed, timeout: this.timeoutMs });
      return doomed;
    });
  }

  async listTopics(): Promise<string[]> {
    return this.call("list topics", async (admin) => (await admin.listTopics()).sort());
  }

  async fetchTopicOffsets(topic: string): Promise<PartitionOffsets[]> {
    return this.callWhileLeadersSettle(`fetch offsets of ${topic}`, async (admin) =>
      (await admin.fetchTopicOffsets(topic))
        .map(({ partition, low, high }) => ({ partition, low, high }))
        .sort((a, b) => a.partition - b.partition),
    );
  }

  async fetchTopicOffsetsByTimestamp(topic: string, timestampMs: number): Promise<PartitionOffset[]> {
    return this.call(`fetch offsets of ${topic} by timestamp`, async (admin) =>
      (await admin.fetchTopicOffsetsByTimestamp(topic, timestampMs))
        .map(({ partition, offset }) => ({ partition, offset }))
        .sort((a, b) => a.partition - b.partition),
    );
  }

  async fetchPartitionOffsets(selection: PartitionSelection[], which: "earliest" | "latest"): Promise<TopicPartitionOffset[]> {
    if (selection.length === 0) return [];
    return this.callWhileLeadersSettle(`fetch ${which} offsets of ${selection.length} topics`, async (admin) => {
      const result = await (admin as unknown as PatchedClientAdmin).fetchPartitionsOffset({ topics: selection, fromBeginning: which === "earliest" });
      return result.flatMap(({ topic, partitions }) => partitions.map(({ partition, offset }) => ({ topic, partition, offset: String(offset) })));
    });
  }

  async fetchCommittedOffsets(groupId: string, selection: PartitionSelection[]): Promise<Array<{ topic: string; partition: number; offset: string | null }>> {
    if (selection.length === 0) return [];
    return this.call(`fetch committed offsets of group ${groupId}`, async (admin) => {
      const result = await (admin as unknown as PatchedClientAdmin).fetchGroupPartitionOffsets({ groupId, topics: selection });
      return result.flatMap(({ topic, partitions }) =>
        partitions.map(({ partition, offset }) => ({ topic, partition, offset: String(offset).startsWith("-") ? null : String(offset) })),
      );
    });
  }

  async fetchGroupOffsets(
    groupId: string,
    topics: string[],
  ): Promise<Array<{ topic: string; partition: number; offset: string | null }>> {
    if (topics.length === 0) return [];
    // kafkajs' fetchOffsets looks each topic's partitions up on its own, each behind the
    // metadata lock: at 10,000 endpoint topics they queued for longer than the lock's timeout
    // (and held up the consumers' metadata reads meanwhile). One Metadata request names them
    // all (and only when the admin's metadata lacks one of them or is old: fetchTopicMetadata
    // sent two Metadata requests per call), one OffsetFetch asks for every partition.
    const selection = await this.call(`read partitions of ${topics.length} topics`, async (admin) =>
      (await (admin as unknown as PatchedClientAdmin).fetchTopicPartitionIds({ topics })).filter(({ partitions }) => partitions.length > 0),
    );
    return (await this.fetchCommittedOffsets(groupId, selection)).sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }

  async setGroupOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void> {
    await this.call(`set offsets of group ${groupId}`, (admin) =>
      writeIdleGroupOffsets({ admin, createClientConsumer: this.deps.createClientConsumer }, groupId, offsets, this.timeoutMs),
    );
    this.logger.info({ groupId, offsets }, "consumer group offsets set");
  }

  async resetGroupOffsetsToTimestamp(groupId: string, topics: string[], timestampMs: number): Promise<TopicPartitionOffset[]> {
    const offsets: TopicPartitionOffset[] = [];
    for (const topic of topics) {
      for (const { partition, offset } of await this.fetchTopicOffsetsByTimestamp(topic, timestampMs)) {
        offsets.push({ topic, partition, offset });
      }
    }
    await this.setGroupOffsets(groupId, offsets);
    return offsets;
  }

  async describeGroup(groupId: string): Promise<GroupDescription> {
    return this.call(`describe group ${groupId}`, async (admin) => {
      const { groups } = await admin.describeGroups([groupId]);
      const group = groups[0];
      if (!group) return { groupId, state: "Dead", protocol: "", members: [] };
      return {
        groupId: group.groupId,
        state: group.state,
        protocol: group.protocol,
        members: group.members.map((member) => ({
          memberId: member.memberId,
          clientId: member.clientId,
          clientHost: member.clientHost,
          assignment: decodeAssignment(member.memberAssignment),
        })),
      };
    });
  }

  async listGroups(): Promise<string[]> {
    return this.call("list groups", async (admin) => (await admin.listGroups()).groups.map(({ groupId }) => groupId));
  }

  async deleteGroups(groupIds: string[]): Promise<void> {
    if (groupIds.length === 0) return;
    await this.call("delete groups", async (admin) => {
      try {
        await admin.deleteGroups(groupIds);
      } catch (error) {
        // kafkajs throws one aggregate for all groups; groups that never existed are fine.
        const failures = (error as { groups?: Array<{ groupId: string; error?: { type?: string } }> }).groups ?? [];
        const real = failures.filter(({ error: e }) => e && e.type !== "GROUP_ID_NOT_FOUND");
        if (failures.length === 0 || real.length > 0) throw error;
      }
    });
  }

  private async call<T>(operation: string, work: (admin: ClientAdmin) => Promise<T>): Promise<T> {
    try {
      return await this.client.use(work);
    } catch (error) {
      throw toKafkaError(error, operation);
    }
  }

  /**
   * An offsets read, tried again while a partition's leadership is still settling. Right after a
   * topic is created (a service's first start) the metadata can already name a leader that does
   * not yet act as one, and kafkajs gives up on the first "not the leader" (it retries only an
   * unknown topic): a router starting next to a new endpoint-config topic failed its start on it.
   */
  private async callWhileLeadersSettle<T>(operation: string, work: (admin: ClientAdmin) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    for (let delayMs = 50; ; delayMs = Math.min(delayMs * 2, 1_000)) {
      try {
        return await this.call(operation, work);
      } catch (error) {
        const code = error instanceof KafkaError ? error.code : undefined;
        if (!code || !LEADERSHIP_SETTLING.has(code) || Date.now() + delayMs >= deadline) throw error;
        this.logger.debug({ err: error, operation, retryInMs: delayMs }, "partition leadership still settling; reading again");
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }

  private async waitForLeaders(admin: ClientAdmin, topics: string[]): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    for (let delayMs = 50; ; delayMs = Math.min(delayMs * 2, 1000)) {
      try {
        const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
        if (metadata.every(({ partitions }) => partitions.length > 0 && partitions.every(({ leader }) => leader >= 0))) return;
      } catch (error) {
        if (Date.now() >= deadline) throw error;
      }
      if (Date.now() >= deadline) {
        throw new KafkaError(`topics ${topics.join(", ")} have no leaders after ${this.timeoutMs} ms`, { retriable: true });
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }

  private async warnOnPartitionMismatch(admin: ClientAdmin, specs: TopicSpec[]): Promise<void> {
    if (specs.length === 0) return;
    const { topics } = await admin.fetchTopicMetadata({ topics: specs.map(({ topic }) => topic) });
    for (const spec of specs) {
      const actual = topics.find(({ name }) => name === spec.topic)?.partitions.length;
      if (actual !== undefined && actual !== spec.partitions) {
        this.logger.warn(
          { topic: spec.topic, wantedPartitions: spec.partitions, actualPartitions: actual },
          "existing kafka topic has a different partition count; left unchanged",
        );
      }
    }
  }
}

export function createKafkaAdmin(deps: AdminDependencies, options: AdminOptions = {}): KafkaAdmin {
  return new Admin(deps, options);
}
