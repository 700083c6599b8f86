import kafkajs from "kafkajs";
import type { ConsumerConfig, Kafka as ClientKafka } from "kafkajs";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { createKafkaAdmin, type KafkaAdmin } from "./kafka-admin.js";
import { createKafkaConsumer, type ConsumerOptions, type KafkaConsumer } from "./kafka-consumer.js";
import { KafkaError } from "./kafka-error.js";
import { clientLogLevelFor, createLogCreator } from "./kafka-log.js";
import { createKafkaMetrics } from "./kafka-metrics.js";
import { createKafkaProducer, type KafkaProducer, type ProducerOptions } from "./kafka-producer.js";
import {
  createKafkaTransactionalProducer,
  type KafkaTransactionalProducer,
  type TransactionalProducerOptions,
} from "./kafka-transactional-producer.js";
import { Murmur2Partitioner } from "./murmur2-partitioner.js";
import { PartitionChoices, recordingPartitioner } from "./partition-choices.js";
import { toClientRetry, type RetryPolicy } from "./retry-policy.js";

const { Kafka } = kafkajs;

/** kafkajs' default (murmur2) partitioner, each choice recorded for the acknowledgement check. */
function recordedDefaultPartitioner(choices: PartitionChoices) {
  return () => recordingPartitioner(choices, Murmur2Partitioner());
}

export interface KafkaClientOptions {
  /** `host:port` of one or more brokers to bootstrap from. */
  brokers: string[];
  /** Names this process to the brokers and in metric labels. */
  clientId: string;
  /** kafkajs's own log lines are forwarded here, at matching levels. */
  logger: Logger;
  /** Where the adapter's metrics are registered. */
  registry: Registry;
  /** Metric name prefix, e.g. `novatrade_kafka_`. */
  metricsPrefix: string;
  /** TCP connect timeout, in milliseconds (kafkajs default 1000). */
  connectionTimeoutMs?: number;
  /** Time a broker has to answer a request, in milliseconds (kafkajs default 30000). */
  requestTimeoutMs?: number;
  /** Default retry policy of every request. */
  retry?: RetryPolicy;
  /** Admin: topic creation/deletion and group offset reset timeout, in milliseconds (default 30000). */
  adminOperationTimeoutMs?: number;
}

/** One Kafka cluster connection set. Everything created from it is closed by `disconnect()`. */
export interface KafkaClient {
  readonly clientId: string;
  /** The client's admin; connects on first use. */
  readonly admin: KafkaAdmin;
  /** An idempotent producer (acks=all, one request in flight per broker). */
  createProducer(options?: ProducerOptions): KafkaProducer;
  createTransactionalProducer(options: TransactionalProducerOptions): KafkaTransactionalProducer;
  createConsumer(options: ConsumerOptions): KafkaConsumer;
  /** Consumers first (handlers in flight finish, groups are left), then producers, then admin. */
  disconnect(): Promise<void>;
}

interface Closeable {
  disconnect(): Promise<void>;
}

export function createKafka(options: KafkaClientOptions): KafkaClient {
  const logger = options.logger.child({ component: "kafka", clientId: options.clientId });
  const metrics = createKafkaMetrics({ registry: options.registry, prefix: options.metricsPrefix, clientId: options.clientId });
  const retry = toClientRetry(options.retry);
  const kafka: ClientKafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    ...(options.connectionTimeoutMs === undefined ? {} : { connectionTimeout: options.connectionTimeoutMs }),
    ...(options.requestTimeoutMs === undefined ? {} : { requestTimeout: options.requestTimeoutMs }),
    ...(retry === undefined ? {} : { retry }),
    logLevel: clientLogLevelFor(logger),
    logCreator: createLogCreator(logger),
  });

  const consumers = new Set<Closeable>();
  const producers = new Set<Closeable>();
  let closed = false;
  const open = (what: string): void => {
    if (closed) throw new KafkaError(`cannot create a ${what}: kafka client ${options.clientId} is disconnected`, { code: "DISCONNECTED" });
  };
  const createClientConsumer = (config: ConsumerConfig) => kafka.consumer(config);

  const admin = createKafkaAdmin(
    { createClientAdmin: () => kafka.admin(), createClientConsumer, metrics, logger },
    options.adminOperationTimeoutMs === undefined ? {} : { operationTimeoutMs: options.adminOperationTimeoutMs },
  );

  return {
    clientId: options.clientId,
    admin,

    createProducer(producerOptions = {}) {
      open("producer");
      const producerRetry = toClientRetry(producerOptions.retry);
      const partitionChoices = new PartitionChoices();
      const producer = createKafkaProducer(
        {
          createClientProducer: () =>
            kafka.producer({
              idempotent: true,
              maxInFlightRequests: 1,
              allowAutoTopicCreation: false,
              // murmur2 on the key, as the Java client: a key lands on the same partition whoever writes it.
              createPartitioner: recordedDefaultPartitioner(partitionChoices),
              ...(producerRetry === undefined ? {} : { retry: producerRetry }),
            }),
          partitionChoices,
          metrics,
          logger,
        },
        producerOptions,
      );
      producers.add(producer);
      return producer;
    },

    createTransactionalProducer(producerOptions) {
      open("transactional producer");
      const partitionChoices = new PartitionChoices();
      const producer = createKafkaTransactionalProducer(
        {
          createClientProducer: () =>
            kafka.producer({
              transactionalId: producerOptions.transactionalId,
              transactionTimeout: producerOptions.transactionTimeoutMs ?? 60_000,
              idempotent: true,
              maxInFlightRequests: 1,
              allowAutoTopicCreation: false,
              createPartitioner: recordedDefaultPartitioner(partitionChoices),
            }),
          partitionChoices,
          metrics,
          logger,
        },
        producerOptions,
      );
      producers.add(producer);
      return producer;
    },

    createConsumer(consumerOptions) {
      open("consumer");
      const consumer = createKafkaConsumer(consumerOptions, {
        createClientConsumer,
        listTopics: () => admin.listTopics(),
        offsets: admin,
        metrics,
        logger,
      });
      consumers.add(consumer);
      return consumer;
    },

    async disconnect() {
      if (closed) return;
      closed = true;
      const failures: unknown[] = [];
      for (const group of [[...consumers], [...producers], [admin]]) {
        const results = await Promise.allSettled(group.map((component) => component.disconnect()));
        for (const result of results) if (result.status === "rejected") failures.push(result.reason);
      }
      if (failures.length > 0) {
        logger.warn({ errors: failures.map(String) }, "kafka client disconnected with errors");
      }
    },
  };
}
