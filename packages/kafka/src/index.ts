export { createKafka, type KafkaClient, type KafkaClientOptions } from "./kafka-client.js";
export type {
  EnsureTopicsResult,
  GroupDescription,
  GroupMember,
  KafkaAdmin,
  PartitionOffset,
  PartitionOffsets,
  PartitionSelection,
  TopicSpec,
} from "./kafka-admin.js";
export type {
  BatchContext,
  ConsumerOptions,
  ConsumerStatus,
  HandlerErrorContext,
  HandlerErrorDecision,
  HandlerErrorPolicy,
  KafkaBatch,
  KafkaConsumer,
  MessageContext,
  RunOptions,
  InheritedOffset,
  WorkGateOptions,
} from "./kafka-consumer.js";
export type { ConsumerEvents } from "./consumer-events.js";
export { KafkaError } from "./kafka-error.js";
export type { KafkaMessage, OutgoingMessage } from "./kafka-message.js";
export { detachedMessage } from "./kafka-message.js";
export type { KafkaProducer, ProduceAck, ProducerOptions } from "./kafka-producer.js";
export type {
  KafkaTransaction,
  KafkaTransactionalProducer,
  TransactionOffsets,
  TransactionalProducerOptions,
} from "./kafka-transactional-producer.js";
export type { Listener } from "./listeners.js";
export { compareOffsets, nextOffset } from "./offsets.js";
export type { RetryPolicy } from "./retry-policy.js";
export type { TopicPartitionOffset, TopicPartitions } from "./topic-partitions.js";
export { resolveTopics, type TopicSelector, type TopicSetChange } from "./topic-subscription.js";
export { chunkTopicMessages, MAX_PRODUCE_REQUEST_BYTES, type TopicMessages } from "./produce-chunks.js";
export { offsetRangeByTime, rangeSize, readTopicRanges, type PartitionRange, type ReadRangeOptions } from "./range-reader.js";
export { startConsumerLagReader, sumLagByKind, type ConsumerLagReader, type ConsumerLagReaderOptions, type LagByKind, type LaggingGroup, type PartitionLagInput } from "./consumer-lag.js";
export { consumerProbe } from "./consumer-probe.js";
export { createShardedConsumer, type ShardedConsumer } from "./sharded-consumer.js";
