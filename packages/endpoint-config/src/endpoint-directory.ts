import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { topicNames, type TopicNaming } from "@novatrade/domain";
import { deadLetterFor, isRetriable, retryWhileRetriable, type RecordCodec, type RetryRetriableOptions } from "@novatrade/event-codec";
import { consumerProbe, type KafkaClient, type KafkaConsumer, type KafkaMessage, type KafkaProducer, type MessageContext } from "@novatrade/kafka";
import { DeletedEndpoints } from "./deleted-endpoints.js";
import type { EndpointDirectoryMetrics } from "./endpoint-directory-metrics.js";
import type { EndpointConfig } from "./endpoint-record.js";

/** Where a record sits in the configuration topic. */
export interface RecordPosition {
  partition: number;
  offset: string;
}

export type EndpointChangeListener = (change: { endpointId: string; previous: EndpointConfig | null; current: EndpointConfig | null }) => void;

export interface EndpointDirectoryDeps {
  kafka: KafkaClient;
  records: RecordCodec;
  naming: TopicNaming;
  logger: Logger;
  /** Names this process's private consumer group (`<prefix>endpoint-view.<service>.<uuid>`). */
  service: string;
  /**
   * Writes records that can never be decoded to the dead-letter topic. Without it (a CLI that
   * only reads) such a record is logged and counted only.
   */
  producer?: KafkaProducer;
  metrics?: EndpointDirectoryMetrics;
  /** Epoch milliseconds; default `Date.now`. */
  now?: () => number;
  /** How long a read deletion is remembered by `isDeleted`, in milliseconds (default 24 h). */
  deletedRetentionMs?: number;
  /** Back-off while a record cannot be read yet (registry unreachable); defaults 200 ms to 5 s. */
  retry?: Pick<RetryRetriableOptions, "minDelayMs" | "maxDelayMs">;
}

/** Deletions remembered at most, whatever the retention: bounds memory under mass deletion. */
const MAX_DELETED_REMEMBERED = 100_000;

/**
 * Every endpoint's current configuration, in memory, built from the compacted topic.
 *
 * Each process reads the whole topic (its own throw-away consumer group, from the beginning),
 * because every router and sender instance needs every endpoint. `start()` returns only once
 * the view has caught up with what the topic held at start, so nothing is routed or sent
 * against a stale or empty view.
 *
 * A record that cannot be read because the schema registry is unreachable is retried with
 * back-off, never skipped: skipping would leave its endpoint missing, and the router would route
 * to nobody. Meanwhile the view is not healthy. Only a record that can never be decoded is
 * dead-lettered, counted and logged, and the view goes on (its endpoint keeps its previous
 * configuration).
 */
export class EndpointDirectory {
  readonly #deps: EndpointDirectoryDeps;
  readonly #endpoints = new Map<string, EndpointConfig>();
  /** Endpoint ids by organization (lower-case UUID): routing looks at one tenant's endpoints only. */
  readonly #byOrganization = new Map<string, Set<string>>();
  /** Endpoints whose tombstone this view has read, for a while (see DeletedEndpoints). */
  readonly #deleted: DeletedEndpoints;
  readonly #listeners = new Set<EndpointChangeListener>();
  readonly #topic: string;
  readonly #groupId: string;
  readonly #now: () => number;
  #consumer: KafkaConsumer | null = null;
  #caughtUp = false;
  /** The retriable failure the view is waiting out, or null. */
  #waitingOn: unknown = null;
  #stopping = false;
  /** Next offset to read, per partition, as far as this view has read. */
  readonly #readUpTo = new Map<number, bigint>();
  /** The record each known endpoint's configuration came from. */
  readonly #sources = new Map<string, RecordPosition & { afterDeletion: boolean }>();
  /** Callers of catchUp/waitForPosition, checked after each record. */
  readonly #waiters = new Set<{ done: () => boolean; resolve: () => void; reject: (error: Error) => void }>();

  constructor(deps: EndpointDirectoryDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#deleted = new DeletedEndpoints({
      retentionMs: deps.deletedRetentionMs ?? 24 * 3_600_000,
      maxEntries: MAX_DELETED_REMEMBERED,
      now: this.#now,
    });
    this.#topic = topicNames(deps.naming).endpointConfig;
    this.#groupId = `${deps.naming.prefix}endpoint-view.${deps.service}.${randomUUID()}`;
  }

  get(endpointId: string): EndpointConfig | undefined {
    return this.#endpoints.get(endpointId);
  }

  /**
   * True once the endpoint's deletion was read. An endpoint that is neither known nor deleted
   * may simply not have reached this view yet (another process registered it a moment ago).
   */
  isDeleted(endpointId: string): boolean {
    return this.#deleted.has(endpointId);
  }

  all(): IterableIterator<EndpointConfig> {
    return this.#endpoints.values();
  }

  /** The endpoints of one organization; the router's per-event lookup, not a scan of all. */
  ofOrganization(organizationUuid: string): EndpointConfig[] {
    const ids = this.#byOrganization.get(organizationUuid.toLowerCase());
    if (!ids) return [];
    return [...ids].map((id) => this.#endpoints.get(id)!);
  }

  /**
   * Healthy once caught up, while its consumer runs and while no record is waiting on the
   * registry: a service whose view is stale or stuck must not report ready.
   */
  isReady(): boolean {
    return this.#caughtUp && this.#waitingOn === null && consumerProbe(this.#consumer?.status()).ready;
  }

  /** Live: its consumer has not crashed or stopped for good. */
  isLive(): boolean {
    return consumerProbe(this.#consumer?.status()).live;
  }

  /** The record the endpoint's current configuration came from (for compare-and-set writers). */
  sourceOf(endpointId: string): (RecordPosition & { afterDeletion: boolean }) | undefined {
    return this.#sources.get(endpointId);
  }

  /** Resolves once this (started) view has read every record the topic holds now. */
  async catchUp(): Promise<void> {
    await this.#readPast(await this.#deps.kafka.admin.fetchTopicOffsets(this.#topic));
  }

  #readPast(offsets: Array<{ partition: number; low: string; high: string }>): Promise<void> {
    return this.#waitUntil(() =>
      offsets.every((partition) => BigInt(partition.high) <= BigInt(partition.low) || (this.#readUpTo.get(partition.partition) ?? 0n) >= BigInt(partition.high)),
    );
  }

  /** Resolves once this (started) view has read the record at `position`. */
  waitForPosition(position: RecordPosition): Promise<void> {
    return this.#waitUntil(() => (this.#readUpTo.get(position.partition) ?? 0n) > BigInt(position.offset));
  }

  #waitUntil(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    if (!this.#consumer || this.#stopping) return Promise.reject(new Error("the endpoint view is not running"));
    return new Promise<void>((resolve, reject) => this.#waiters.add({ done, resolve, reject }));
  }

  onChange(listener: EndpointChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async start(): Promise<void> {
    const { admin } = this.#deps.kafka;
    await admin.ensureTopics([{ topic: this.#topic, partitions: 1, config: { "cleanup.policy": "compact", "min.compaction.lag.ms": "0" } }]);
    const atStart = await admin.fetchTopicOffsets(this.#topic);

    this.#consumer = this.#deps.kafka.createConsumer({ groupId: this.#groupId, topics: [this.#topic], fromBeginning: true });
    await this.#consumer.run({
      autoCommit: false,
      eachMessage: async (message, context) => {
        // Every record ends applied or dead-lettered (or the view is stopping), so its offset
        // counts as read: a bad last record can no longer keep start() waiting.
        await this.#handle(message, context);
        this.#readUpTo.set(message.partition, BigInt(message.offset) + 1n);
        for (const waiter of this.#waiters) {
          if (!waiter.done()) continue;
          this.#waiters.delete(waiter);
          waiter.resolve();
        }
      },
      // Only while stopping does a record stay unhandled; kafkajs reads it again on restart.
      onHandlerError: () => "rethrow",
    });
    // Caught up once every record that existed at start has been read.
    await this.#readPast(atStart);
    this.#caughtUp = true;
    this.#deps.logger.info({ endpoints: this.#endpoints.size }, "endpoint view up to date");
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    for (const waiter of this.#waiters) waiter.reject(new Error("the endpoint view stopped"));
    this.#waiters.clear();
    await this.#consumer?.disconnect();
    this.#consumer = null;
    await this.#deps.kafka.admin.deleteGroups([this.#groupId]).catch((error: unknown) => {
      this.#deps.logger.warn({ err: error, groupId: this.#groupId }, "could not delete the view's consumer group");
    });
  }

  async #handle(message: KafkaMessage, context: MessageContext): Promise<void> {
    const retry = {
      ...this.#deps.retry,
      isStopped: () => this.#stopping,
      onRetry: (error: unknown, attempt: number, delayMs: number) => {
        if (this.#waitingOn === null || attempt % 10 === 0) {
          this.#deps.logger.warn(
            { err: error, partition: message.partition, offset: message.offset, attempt, delayMs },
            "endpoint configuration record cannot be read yet; retrying",
          );
        }
        this.#waitingOn = error;
        this.#deps.metrics?.waiting.set(1);
        // A long outage must not look like a dead member to the group coordinator.
        context.heartbeat().catch(() => undefined);
      },
    };
    try {
      const decoded = message.value === null ? null : await retryWhileRetriable(() => this.#deps.records.decode("endpoint-config", message.value!), retry);
      this.#apply(message, decoded as EndpointConfig | null);
    } catch (error) {
      if (isRetriable(error)) throw error; // stopping: read again by whoever reads next
      await this.#deadLetter(message, error instanceof Error ? error : new Error(String(error)), retry);
    } finally {
      this.#waitingOn = null;
      this.#deps.metrics?.waiting.set(0);
    }
  }

  /** A record that can never be decoded: kept whole in the dead-letter topic, counted, logged. */
  async #deadLetter(message: KafkaMessage, error: Error, retry: RetryRetriableOptions): Promise<void> {
    const { logger, metrics, producer, records, service } = this.#deps;
    logger.error({ err: error, partition: message.partition, offset: message.offset }, "endpoint configuration record cannot be decoded; dead-lettered");
    metrics?.deadLetters.inc({ error_class: error.name });
    if (!producer) return;
    const deadLetterTopic = topicNames(this.#deps.naming).deadLetter;
    try {
      await retryWhileRetriable(async () => {
        const value = await records.encode("dead-letter", deadLetterFor(message, error, `endpoint-directory.${service}`, this.#now()));
        await producer.send(deadLetterTopic, [{ key: message.key, value, headers: { "novatrade-error-class": error.name } }]);
      }, retry);
    } catch (writeError) {
      if (this.#stopping) throw writeError;
      logger.error({ err: writeError, partition: message.partition, offset: message.offset }, "could not write the dead letter of an endpoint configuration record");
    }
  }

  #apply(message: KafkaMessage, record: EndpointConfig | null): void {
    const endpointId = message.key?.toString("utf8");
    if (!endpointId) return;
    const previous = this.#endpoints.get(endpointId) ?? null;
    let current: EndpointConfig | null = null;
    if (record !== null) {
      current = record;
      // Compare-and-set on the revision (see updateEndpoint): writers append expected + 1, and of
      // two writers that expected the same revision only the first in the log counts. Every
      // reader sees the log in the same order, so all of them agree on which one that was.
      if (previous && previous.revision >= current.revision) {
        this.#deps.logger.warn(
          { endpointId, revision: current.revision, currentRevision: previous.revision, offset: message.offset },
          "endpoint configuration record ignored: its revision is not newer (a concurrent or stale write)",
        );
        return;
      }
      if (previous) this.#unindex(previous);
      this.#endpoints.set(endpointId, current);
      this.#sources.set(endpointId, { partition: message.partition, offset: message.offset, afterDeletion: !previous && this.#deleted.has(endpointId) });
      this.#index(current);
      this.#deleted.delete(endpointId);
    } else {
      if (previous) this.#unindex(previous);
      this.#endpoints.delete(endpointId);
      this.#sources.delete(endpointId);
      this.#deleted.add(endpointId);
    }
    for (const listener of this.#listeners) {
      try {
        listener({ endpointId, previous, current });
      } catch (error) {
        this.#deps.logger.error({ err: error, endpointId }, "endpoint change listener failed");
      }
    }
  }

  #index(endpoint: EndpointConfig): void {
    const key = endpoint.organizationUuid.toLowerCase();
    let ids = this.#byOrganization.get(key);
    if (!ids) this.#byOrganization.set(key, (ids = new Set()));
    ids.add(endpoint.endpointId);
  }

  #unindex(endpoint: EndpointConfig): void {
    const key = endpoint.organizationUuid.toLowerCase();
    const ids = this.#byOrganization.get(key);
    ids?.delete(endpoint.endpointId);
    if (ids?.size === 0) this.#byOrganization.delete(key);
  }
}
