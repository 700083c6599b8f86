import type { Admin as ClientAdmin, Consumer as ClientConsumer, ConsumerConfig } from "kafkajs";
import { KafkaError, toKafkaError } from "./kafka-error.js";
import type { TopicPartitionOffset } from "./topic-partitions.js";

/** Group states in which no member holds partitions, so offsets may be written from outside. */
const IDLE_GROUP_STATES = new Set(["Empty", "Dead"]);

export interface GroupOffsetsWriterDependencies {
  admin: ClientAdmin;
  createClientConsumer(config: ConsumerConfig): ClientConsumer;
}

/**
 * Commits offsets for a consumer group that has no running member.
 *
 * kafkajs has no "alter consumer group offsets" call: its `admin.setOffsets` joins the group as a
 * consumer, seeks and leaves, one topic per call, and returns at the first fetch event (about
 * `maxWaitTimeInMs`, 5 s, later; on a cluster with several brokers possibly before every
 * partition's seek was committed). This does the same join-seek-leave for any number of topics at
 * once, and returns only when the group's committed offsets read back as asked.
 */
export async function writeIdleGroupOffsets(
  deps: GroupOffsetsWriterDependencies,
  groupId: string,
  offsets: readonly TopicPartitionOffset[],
  timeoutMs: number,
): Promise<void> {
  if (offsets.length === 0) return;
  const described = await deps.admin.describeGroups([groupId]);
  const state = described.groups[0]?.state ?? "Dead";
  if (!IDLE_GROUP_STATES.has(state)) {
    throw new KafkaError(`consumer group ${groupId} must have no running member to reset its offsets (state ${state})`, {
      retriable: false,
      code: "NON_EMPTY_GROUP",
    });
  }

  const topics = [...new Set(offsets.map(({ topic }) => topic))];
  const consumer = deps.createClientConsumer({
    groupId,
    allowAutoTopicCreation: false,
    // Short fetch waits: the consumer only needs one fetch cycle per broker to apply the seeks.
    maxWaitTimeInMs: 100,
    retry: { retries: 3, restartOnFailure: async () => false },
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    // With auto-commit on, kafkajs commits a seek as soon as the partition is next fetched.
    await consumer.run({ autoCommit: true, eachBatchAutoResolve: false, eachBatch: async () => {} });
    consumer.pause(topics.map((topic) => ({ topic })));
    for (const { topic, partition, offset } of offsets) consumer.seek({ topic, partition, offset });
    await waitForCommitted(deps.admin, groupId, offsets, timeoutMs);
  } catch (error) {
    throw toKafkaError(error, `reset offsets of group ${groupId}`);
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

async function waitForCommitted(
  admin: ClientAdmin,
  groupId: string,
  wanted: readonly TopicPartitionOffset[],
  timeoutMs: number,
): Promise<void> {
  const topics = [...new Set(wanted.map(({ topic }) => topic))];
  const deadline = Date.now() + timeoutMs;
  for (let delayMs = 50; ; delayMs = Math.min(delayMs * 2, 500)) {
    const committed = await admin.fetchOffsets({ groupId, topics });
    const byKey = new Map<string, string>();
    for (const { topic, partitions } of committed) {
      for (const { partition, offset } of partitions) byKey.set(`${topic}\u0000${partition}`, offset);
    }
    if (wanted.every(({ topic, partition, offset }) => byKey.get(`${topic}\u0000${partition}`) === offset)) return;
    if (Date.now() >= deadline) {
      throw new KafkaError(`offsets of group ${groupId} were not committed within ${timeoutMs} ms`, {
        retriable: true,
        code: "TIMEOUT",
      });
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}
