import type { Logger } from "pino";
import { topicNames, workSignalRecord, type TopicNaming } from "@novatrade/domain";
import { deliveryTopicSpec } from "@novatrade/endpoint-config";
import { consumerProbe, nextOffset, type KafkaClient, type KafkaConsumer, type KafkaProducer, type OutgoingMessage } from "@novatrade/kafka";
import type { EventRouter } from "./event-router.js";
import { RoutedOffsets } from "./routed-offsets.js";

export interface RouterServiceDeps {
  kafka: KafkaClient;
  producer: KafkaProducer;
  router: EventRouter;
  naming: TopicNaming;
  groupId: string;
  deliveryTopicPartitions: number;
  /** Milliseconds. */
  sessionTimeoutMs: number;
  logger: Logger;
}

/**
 * The router's consumer loop: reads the domain topic in batches, writes what each record
 * routes to, and commits a batch's offsets only after every write of the batch was
 * acknowledged. A crash between the two re-routes the batch: the sender and receivers see a
 * duplicate with the same delivery and event ids, never a gap (at-least-once).
 */
export class RouterService {
  readonly #deps: RouterServiceDeps;
  readonly #knownEndpoints = new Set<string>();
  #consumer: KafkaConsumer | null = null;
  #commits: RoutedOffsets | null = null;

  constructor(deps: RouterServiceDeps) {
    this.#deps = deps;
  }

  async start(): Promise<void> {
    const { kafka, naming, groupId, logger } = this.#deps;
    const consumer = kafka.createConsumer({
      groupId,
      topics: [topicNames(naming).domain],
      fromBeginning: true,
      sessionTimeoutMs: this.#deps.sessionTimeoutMs,
    });
    this.#consumer = consumer;
    const commits = new RoutedOffsets(
      (offsets) => consumer.commit(offsets),
      (error) => logger.warn({ err: error }, "committing routed offsets failed; the next commit covers them, or their partition's new owner routes them again"),
    );
    this.#commits = commits;
    consumer.on("groupJoin", ({ assignment }) =>
      commits.retainOnly(new Set(assignment.flatMap(({ topic, partitions }) => (partitions ?? []).map((partition) => `${partition}:${topic}`)))),
    );
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 3,
      // The loop may stop early (stopping, or a seek made the batch stale): only what was
      // routed is resolved and committed, the rest is read again.
      autoResolveBatch: false,
      eachBatch: async (batch, context) => {
        const outgoing = new Map<string, OutgoingMessage[]>();
        const deliveryEndpoints = new Set<string>();
        const deliveryTopics = new Set<string>();
        let lastRouted: string | null = null;
        for (const message of batch.messages) {
          if (!context.isRunning() || context.isStale()) break;
          for (const record of await this.#deps.router.route(message)) {
            const list = outgoing.get(record.topic) ?? [];
            list.push(record.message);
            outgoing.set(record.topic, list);
            if (record.endpointId !== undefined) {
              deliveryEndpoints.add(record.endpointId);
              deliveryTopics.add(record.topic);
            }
          }
          lastRouted = message.offset;
        }
        if (lastRouted === null) return;
        await this.#ensureDeliveryTopics(deliveryEndpoints);
        await this.#deps.producer.sendBatch([...outgoing].map(([topic, messages]) => ({ topic, messages })));
        if (deliveryTopics.size > 0) this.#signalWork(deliveryTopics);
        // Only now, with every write acknowledged, does the batch count as routed.
        context.resolveOffset(lastRouted);
        commits.routed(batch.topic, batch.partition, nextOffset(lastRouted));
        const committed = commits.commitNow();
        // Stopping: the last batch's commit must land before the group is left.
        if (!context.isRunning()) await committed;
        await context.heartbeat();
      },
      onHandlerError: (error, context) => {
        logger.error({ err: error, ...context }, "routing a batch failed; it will be retried");
        return "rethrow";
      },
    });
  }

  async stop(): Promise<void> {
    await this.#commits?.commitNow();
    await this.#consumer?.disconnect();
    this.#consumer = null;
  }

  /** Ready: the domain topic's consumer reads (or is joining its group). */
  isReady(): boolean {
    return consumerProbe(this.#consumer?.status()).ready;
  }

  /** Live: its consumer has not crashed or stopped for good. */
  isLive(): boolean {
    return consumerProbe(this.#consumer?.status()).live;
  }

  /**
   * Names the delivery topics just written on the work-signals topic, which wakes the senders at
   * once (they poll idle topics' end offsets only slowly). Sent once the records are acknowledged,
   * so a sender that reads the signal finds them; not awaited: a lost signal delays those
   * deliveries by one poll of the senders, and must never hold up routing.
   */
  #signalWork(topics: Set<string>): void {
    const { topic, value } = workSignalRecord(this.#deps.naming, topics);
    this.#deps.producer.send(topic, [{ value }]).catch((error: unknown) => this.#deps.logger.warn({ err: error }, "could not send a work signal; senders find the records at their next poll"));
  }

  /**
   * An endpoint's delivery topic is made when the endpoint is created; this covers one whose
   * topic was lost or predates that, once per endpoint per process.
   */
  async #ensureDeliveryTopics(endpointIds: Set<string>): Promise<void> {
    const missing = [...endpointIds].filter((id) => !this.#knownEndpoints.has(id));
    if (missing.length === 0) return;
    const options = { naming: this.#deps.naming, deliveryTopicPartitions: this.#deps.deliveryTopicPartitions };
    await this.#deps.kafka.admin.ensureTopics(missing.map((id) => deliveryTopicSpec(options, id)));
    for (const id of missing) this.#knownEndpoints.add(id);
  }
}

