import type { Producer as ClientProducer, Transaction as ClientTransaction } from "kafkajs";
import type { Logger } from "pino";
import { instrumentNetwork, type InstrumentationSource } from "./client-instrumentation.js";
import { KafkaError, toKafkaError } from "./kafka-error.js";
import { toClientMessage, type OutgoingMessage } from "./kafka-message.js";
import type { KafkaMetrics } from "./kafka-metrics.js";
import { ACKS_ALL, acknowledgedOrThrow, toProduceAcks, type ProduceAck } from "./kafka-producer.js";
import type { PartitionChoices } from "./partition-choices.js";
import { isStaleTopicFailure, RenewableClient } from "./renewable-client.js";
import { SerialQueue } from "./serial-queue.js";

export interface TransactionalProducerOptions {
  /**
   * Stable per producing instance (e.g. `<service>-<partition or pod ordinal>`): a new producer
   * with the same id fences the old one, so a zombie can no longer commit.
   */
  transactionalId: string;
  /** Longest a transaction may stay open before the broker aborts it, in milliseconds (default 60000). */
  transactionTimeoutMs?: number;
}

export interface TransactionOffsets {
  consumerGroupId: string;
  /** `offset` is the next offset to read, as for `consumer.commit`. */
  topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>;
}

export interface KafkaTransaction {
  send(topic: string, messages: OutgoingMessage[]): Promise<ProduceAck[]>;
  /** Commits a consumer group's positions atomically with this transaction's messages. */
  sendOffsets(offsets: TransactionOffsets): Promise<void>;
}

export interface KafkaTransactionalProducer {
  connect(): Promise<void>;
  /**
   * Runs `work` in a transaction: committed when it resolves, aborted when it throws (the error is
   * rethrown). Transactions of one producer run one after another. After an error with code
   * `PRODUCER_FENCED` or `INVALID_PRODUCER_EPOCH` this producer is a zombie: disconnect it.
   */
  transaction<T>(work: (tx: KafkaTransaction) => Promise<T>): Promise<T>;
  disconnect(): Promise<void>;
}

export interface TransactionalProducerDependencies {
  createClientProducer(): ClientProducer;
  /** Filled by the client producer's partitioner (see PartitionChoices). */
  partitionChoices: PartitionChoices;
  metrics: KafkaMetrics;
  logger: Logger;
}

/** After these a transactional producer is a zombie or broken: the next transaction uses a new one. */
function needsFreshProducer(error: KafkaError): boolean {
  return isStaleTopicFailure(error) || error.code === "INVALID_PRODUCER_EPOCH" || error.code === "PRODUCER_FENCED";
}

class TransactionalProducer implements KafkaTransactionalProducer {
  private readonly client: RenewableClient<ClientProducer>;
  private readonly queue = new SerialQueue();
  private readonly logger: Logger;

  private readonly partitionChoices: PartitionChoices;

  constructor(deps: TransactionalProducerDependencies, transactionalId: string) {
    this.partitionChoices = deps.partitionChoices;
    const logger = deps.logger.child({ component: "kafka-transactional-producer", transactionalId });
    this.logger = logger;
    this.client = new RenewableClient({
      name: "transactional producer",
      create: () => {
        const producer = deps.createClientProducer();
        return {
          client: producer,
          detach: instrumentNetwork(producer as unknown as InstrumentationSource, "producer", deps.metrics, logger),
        };
      },
      // kafkajs claims the transactional id (InitProducerId, which fences older producers with
      // the same id and aborts their open transaction) only at the first transaction. Claim it
      // at connect, so a restarted instance fences its zombie before it does anything else.
      afterConnect: async (producer) => {
        const claim = await producer.transaction();
        await claim.abort(); // nothing was added: no request, just back to ready
      },
      shouldRenew: needsFreshProducer,
      onRenew: (error) => logger.warn({ err: error }, "kafka transactional producer replaced after a fatal error"),
    });
  }

  connect(): Promise<void> {
    return this.client.connect();
  }

  disconnect(): Promise<void> {
    // Let a transaction in progress finish (commit or abort) before closing.
    return this.queue.run(() => this.client.disconnect());
  }

  transaction<T>(work: (tx: KafkaTransaction) => Promise<T>): Promise<T> {
    return this.queue.run(() =>
      this.client.use(
        async (producer) => {
          let inner: ClientTransaction;
          try {
            inner = await producer.transaction();
          } catch (error) {
            throw toKafkaError(error, "begin transaction");
          }
          let open = true;
          const ensureOpen = (): void => {
            if (!open) throw new KafkaError("transaction is already finished", { code: "TRANSACTION_FINISHED" });
          };
          const tx: KafkaTransaction = {
            send: async (topic, messages) => {
              ensureOpen();
              if (messages.length === 0) return [];
              try {
                const clientMessages = messages.map(toClientMessage);
                const metadata = await inner.send({ topic, acks: ACKS_ALL, messages: clientMessages });
                // A partition skipped inside a transaction would be lost at commit: fail instead.
                return acknowledgedOrThrow(this.partitionChoices, [{ topic, messages: clientMessages }], toProduceAcks(topic, metadata));
              } catch (error) {
                throw toKafkaError(error, `produce to ${topic} in transaction`);
              }
            },
            sendOffsets: async ({ consumerGroupId, topics }) => {
              ensureOpen();
              try {
                await inner.sendOffsets({ consumerGroupId, topics });
              } catch (error) {
                throw toKafkaError(error, "send offsets in transaction");
              }
            },
          };

          let result: T;
          try {
            result = await work(tx);
          } catch (error) {
            open = false;
            await this.abort(inner);
            throw error;
          }
          open = false;
          try {
            await inner.commit();
          } catch (error) {
            const failure = toKafkaError(error, "commit transaction");
            await this.abort(inner);
            throw failure;
          }
          return result;
        },
        // Never run the caller's work twice on our own: it may have side effects.
        false,
      ),
    );
  }

  private async abort(inner: ClientTransaction): Promise<void> {
    if (!inner.isActive()) return;
    try {
      await inner.abort();
    } catch (error) {
      // The broker aborts it at transactionTimeoutMs anyway; the caller sees the original error.
      this.logger.error({ err: error }, "kafka transaction abort failed");
    }
  }
}

export function createKafkaTransactionalProducer(
  deps: TransactionalProducerDependencies,
  options: TransactionalProducerOptions,
): KafkaTransactionalProducer {
  return new TransactionalProducer(deps, options.transactionalId);
}
