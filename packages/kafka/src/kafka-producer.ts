import type { Producer as ClientProducer, RecordMetadata } from "kafkajs";
import { chunkTopicMessages, type TopicMessages } from "./produce-chunks.js";
import type { Logger } from "pino";
import { instrumentNetwork, type InstrumentationSource } from "./client-instrumentation.js";
import { KafkaError, toKafkaError } from "./kafka-error.js";
import { toClientMessage, type OutgoingMessage } from "./kafka-message.js";
import type { KafkaMetrics } from "./kafka-metrics.js";
import type { PartitionChoices } from "./partition-choices.js";
import { isProducerStateFailure, isStaleTopicFailure, RenewableClient } from "./renewable-client.js";
import type { RetryPolicy } from "./retry-policy.js";

/**
 * The broker's acknowledgement for the messages of one send that went to one partition: they
 * got consecutive offsets from `baseOffset`, in the order they were given.
 */
export interface ProduceAck {
  topic: string;
  partition: number;
  baseOffset: string;
}

export interface ProducerOptions {
  /**
   * Retries of a failing send, over the client's policy. Default: the client's (kafkajs: 5
   * retries, 300 ms doubling with jitter), after which `send` throws a retriable KafkaError.
   * Retries inside one send never duplicate (idempotent producer).
   */
  retry?: RetryPolicy;
  /** How long the broker may wait for all in-sync replicas, in milliseconds (default 30000). */
  ackTimeoutMs?: number;
}

export interface KafkaProducer {
  connect(): Promise<void>;
  /**
   * Writes with acks=all on an idempotent producer; resolves once every message is replicated.
   * Large sends are split into requests under the broker's size limit.
   */
  send(topic: string, messages: OutgoingMessage[]): Promise<ProduceAck[]>;
  /** Several topics in as few produce requests as the size limit allows; same guarantees as send. */
  sendBatch(batches: TopicMessages[]): Promise<ProduceAck[]>;
  disconnect(): Promise<void>;
}

export const ACKS_ALL = -1;

export function toProduceAcks(topic: string, metadata: RecordMetadata[]): ProduceAck[] {
  return metadata
    .map((record) => ({
      topic: record.topicName || topic,
      partition: record.partition,
      baseOffset: record.baseOffset ?? record.offset ?? "-1",
    }))
    .sort((a, b) => a.partition - b.partition);
}

export interface ProducerDependencies {
  createClientProducer(): ClientProducer;
  /** Filled by the client producer's partitioner: what each send must see acknowledged. */
  partitionChoices: PartitionChoices;
  metrics: KafkaMetrics;
  logger: Logger;
}

type ClientTopicMessages = Array<{ topic: string; messages: ReturnType<typeof toClientMessage>[] }>;

/**
 * The acknowledgements of a send the client reported as successful, or a retriable failure when
 * a partition it wrote to has none (see PartitionChoices: kafkajs can skip a partition whose
 * leader moved between two tries of one send).
 */
export function acknowledgedOrThrow(choices: PartitionChoices, sent: ClientTopicMessages, acks: ProduceAck[]): ProduceAck[] {
  const missing = choices.unacknowledged(sent, acks);
  if (missing.length === 0) return acks;
  const where = missing.map((entry) => `${entry.topic}[${entry.partition}] (${entry.messages} messages)`).join(", ");
  throw new KafkaError(`produce reported success without an acknowledgement for ${where}`, { retriable: true, code: "UNACKNOWLEDGED_PARTITIONS" });
}

class IdempotentProducer implements KafkaProducer {
  private readonly client: RenewableClient<ClientProducer>;

  private readonly partitionChoices: PartitionChoices;

  constructor(
    deps: ProducerDependencies,
    private readonly options: ProducerOptions,
  ) {
    this.partitionChoices = deps.partitionChoices;
    const logger = deps.logger.child({ component: "kafka-producer" });
    this.client = new RenewableClient({
      name: "producer",
      create: () => {
        const producer = deps.createClientProducer();
        return {
          client: producer,
          detach: instrumentNetwork(producer as unknown as InstrumentationSource, "producer", deps.metrics, logger),
        };
      },
      shouldRenew: (error) => isStaleTopicFailure(error) || isProducerStateFailure(error),
      onRenew: (error) =>
        logger.warn(
          { err: error, code: error.code },
          "kafka producer replaced: kafkajs keeps failing after a topic it used is deleted (UNKNOWN_TOPIC_OR_PARTITION) or once its sequence numbers are out of step with the broker's",
        ),
    });
  }

  connect(): Promise<void> {
    return this.client.connect();
  }

  send(topic: string, messages: OutgoingMessage[]): Promise<ProduceAck[]> {
    return this.sendBatch([{ topic, messages }]);
  }

  async sendBatch(batches: TopicMessages[]): Promise<ProduceAck[]> {
    const acks: ProduceAck[] = [];
    // Requests go one after another: the idempotent producer keeps one in flight anyway.
    for (const request of chunkTopicMessages(batches)) {
      const topics = request.map((entry) => entry.topic).join(",");
      // A send retried on a fresh producer (see RenewableClient) may repeat messages the failed
      // one wrote to other partitions: at least once, like every retry of a send.
      try {
        const topicMessages: ClientTopicMessages = request.map((entry) => ({ topic: entry.topic, messages: entry.messages.map(toClientMessage) }));
        const metadata = await this.client.use((producer) =>
          producer.sendBatch({ acks: ACKS_ALL, timeout: this.options.ackTimeoutMs ?? 30_000, topicMessages }),
        );
        acks.push(...acknowledgedOrThrow(this.partitionChoices, topicMessages, toProduceAcks(request[0]!.topic, metadata)));
      } catch (error) {
        throw toKafkaError(error, `produce to ${topics}`);
      }
    }
    return acks;
  }

  disconnect(): Promise<void> {
    return this.client.disconnect();
  }
}

export function createKafkaProducer(deps: ProducerDependencies, options: ProducerOptions = {}): KafkaProducer {
  return new IdempotentProducer(deps, options);
}
