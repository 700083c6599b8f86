import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { topicNames, type TopicNaming } from "@novatrade/domain";
import type { RecordCodec } from "@novatrade/event-codec";
import type { KafkaClient, KafkaConsumer, KafkaMessage } from "@novatrade/kafka";
import type { EndpointConfig } from "./endpoint-record.js";

export type EndpointChangeListener = (change: { endpointId: string; previous: EndpointConfig | null; current: EndpointConfig | null }) => void;

export interface EndpointDirectoryDeps {
  kafka: KafkaClient;
  records: RecordCodec;
  naming: TopicNaming;
  logger: Logger;
  /** Names this process's private consumer group (`<prefix>endpoint-view.<service>.<uuid>`). */
  service: string;
}

/**
 * Every endpoint's current configuration, in memory, built from the compacted topic.
 *
 * Each process reads the whole topic (its own throw-away consumer group, from the beginning),
 * because every router and sender instance needs every endpoint. `start()` returns only once
 * the view has caught up with what the topic held at start, so nothing is routed or sent
 * against a stale or empty view.
 */
export class EndpointDirectory {
  readonly #deps: EndpointDirectoryDeps;
  readonly #endpoints = new Map<string, EndpointConfig>();
  /** Endpoint ids by organization (lower-case UUID): routing looks at one tenant's endpoints only. */
  readonly #byOrganization = new Map<string, Set<string>>();
  /** Endpoints whose tombstone this view has read (until compaction removes it from the topic). */
  readonly #deleted = new Set<string>();
  readonly #listeners = new Set<EndpointChangeListener>();
  readonly #topic: string;
  readonly #groupId: string;
  #consumer: KafkaConsumer | null = null;

  constructor(deps: EndpointDirectoryDeps) {
    this.#deps = deps;
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

  onChange(listener: EndpointChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async start(): Promise<void> {
    const { admin } = this.#deps.kafka;
    await admin.ensureTopics([{ topic: this.#topic, partitions: 1, config: { "cleanup.policy": "compact", "min.compaction.lag.ms": "0" } }]);
    const highWatermarks = await admin.fetchTopicOffsets(this.#topic);
    // Caught up once the last offset that existed at start has been read, on every partition.
    const pending = new Map<number, bigint>();
    for (const partition of highWatermarks) {
      if (BigInt(partition.high) > BigInt(partition.low)) pending.set(partition.partition, BigInt(partition.high) - 1n);
    }
    let caughtUp!: () => void;
    const ready = new Promise<void>((resolve) => (caughtUp = resolve));
    if (pending.size === 0) caughtUp();

    this.#consumer = this.#deps.kafka.createConsumer({ groupId: this.#groupId, topics: [this.#topic], fromBeginning: true });
    await this.#consumer.run({
      autoCommit: false,
      eachMessage: async (message) => {
        await this.#apply(message);
        const last = pending.get(message.partition);
        if (last !== undefined && BigInt(message.offset) >= last) {
          pending.delete(message.partition);
          if (pending.size === 0) caughtUp();
        }
      },
      // A record this build cannot read must not stop the view: it is logged and skipped, and
      // the endpoint keeps its previous configuration.
      onHandlerError: (error, context) => {
        this.#deps.logger.error({ err: error, ...context }, "endpoint configuration record skipped");
        return "skip";
      },
    });
    await ready;
    this.#deps.logger.info({ endpoints: this.#endpoints.size }, "endpoint view up to date");
  }

  async stop(): Promise<void> {
    await this.#consumer?.disconnect();
    this.#consumer = null;
    await this.#deps.kafka.admin.deleteGroups([this.#groupId]).catch((error: unknown) => {
      this.#deps.logger.warn({ err: error, groupId: this.#groupId }, "could not delete the view's consumer group");
    });
  }

  async #apply(message: KafkaMessage): Promise<void> {
    const endpointId = message.key?.toString("utf8");
    if (!endpointId) return;
    const previous = this.#endpoints.get(endpointId) ?? null;
    let current: EndpointConfig | null = null;
    if (message.value !== null) {
      const record = await this.#deps.records.decode("endpoint-config", message.value);
      current = record as EndpointConfig;
      // Records of one endpoint share a key, hence a partition, hence arrive in order; the
      // revision check only guards against an older writer racing a newer one.
      if (previous && previous.revision > current.revision) return;
      if (previous) this.#unindex(previous);
      this.#endpoints.set(endpointId, current);
      this.#index(current);
      this.#deleted.delete(endpointId);
    } else {
      if (previous) this.#unindex(previous);
      this.#endpoints.delete(endpointId);
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
