import type { Logger } from "pino";
import { randomUUID } from "node:crypto";
import {
  DecodeError,
  decodeWorkSignal,
  deliveryGroupIdOf,
  deliveryShardCountsIn,
  deliveryShardGroupId,
  deliveryShardOf,
  deliveryTopic,
  deliveryTopicPattern,
  NovatradeError,
  retryTopicPattern,
  topicNames,
  ValidationError,
  type TopicNaming,
} from "@novatrade/domain";
import type { DeliveryRequestRecord, RecordCodec } from "@novatrade/event-codec";
import type { EndpointConfig, EndpointDirectory, SecretBox } from "@novatrade/endpoint-config";
import {
  consumerProbe,
  createShardedConsumer,
  detachedMessage,
  type BatchContext,
  type InheritedOffset,
  type KafkaBatch,
  type KafkaClient,
  type KafkaConsumer,
  type KafkaMessage,
  type KafkaProducer,
  type ShardedConsumer,
  type TopicPartitions,
} from "@novatrade/kafka";
import type { EventProducer } from "@novatrade/producer";
import { recordsForAttempt, recordsForSkip } from "./attempt-records.js";
import { BatchingWriter } from "./batching-writer.js";
import { BoundedCache } from "./bounded-cache.js";
import { endOffsetPollMs } from "./end-offset-poll.js";
import { DeliveryWrites } from "./delivery-writes.js";
import type { Clock } from "./clock.js";
import { attemptDelivery, isOwnFault, OpenedSecrets, type OwnFault } from "./delivery-attempt.js";
import { endToEndSeconds, eventTypeLabel } from "./delivery-labels.js";
import { decide, dueSoonWaitMs, type Decision, type DeliverySource, type EndpointView } from "./delivery-decision.js";
import { EndpointLanes, type LaneJob } from "./endpoint-lanes.js";
import type { AttemptResult, HttpDelivery } from "./http-delivery.js";
import type { SenderMetrics } from "./metrics.js";
import { OffsetCommitter } from "./offset-committer.js";
import { OffsetTracker } from "./offset-tracker.js";
import { PartitionGate } from "./partition-gate.js";
import { RetryDueWatch } from "./retry-due-watch.js";
import { RetryLookahead, retryLookaheadMs } from "./retry-lookahead.js";

export { UNKNOWN_ENDPOINT_GRACE_MS } from "./delivery-decision.js";

export interface SenderServiceDeps {
  kafka: KafkaClient;
  producer: KafkaProducer;
  records: RecordCodec;
  /** Emits meta events (terminal failures) to the domain topic. */
  metaEvents: EventProducer;
  directory: EndpointDirectory;
  http: HttpDelivery;
  secretBox: SecretBox;
  naming: TopicNaming;
  /** Makes sure a retry topic exists before a retry is written to it (delays of older schedules). */
  ensureRetryTopic: (topic: string, delayMs: number) => Promise<void>;
  deliveryTopicPartitions: number;
  groupId: string;
  jitterRatio: number;
  globalMaxInFlight: number;
  /** Most attempts one organization runs at once. */
  organizationMaxInFlight: number;
  endpointBacklogLimit: number;
  /** How long a delivery held for a fault of ours waits before it is tried again, in milliseconds. */
  ownFaultRetryMs: number;
  /** Milliseconds. */
  commitIntervalMs: number;
  /** Milliseconds. */
  topicRefreshMs: number;
  /** How often the delivery partitions' end offsets are polled (work gate), in milliseconds. */
  endOffsetPollMs: number;
  /** Milliseconds a caught-up delivery partition stays fetched, and how many at most (all shards). */
  partitionLingerMs: number;
  maxLingeringPartitions: number;
  /** Most bytes fetched per delivery partition per request. */
  fetchBytesPerPartition: number;
  /** Retries kept in memory at most until due (`RetryLookahead`). */
  retryLookaheadMax: number;
  /**
   * The same while the work signals are read, in milliseconds (see endOffsetPollMs in
   * end-offset-poll.ts); default `endOffsetPollMs`.
   */
  endOffsetPollSignalledMs?: number;
  /** Consumer groups the delivery topics are split over (see deliveryShardOf). */
  deliveryShards: number;
  /** Milliseconds. */
  sessionTimeoutMs: number;
  clock: Clock;
  random: () => number;
  metrics: SenderMetrics;
  logger: Logger;
}

export { PARKED_HEADER } from "./delivery-writes.js";

/** Lane hold reasons. */
const PAUSED = "paused";
/** How long a fetch of the work-signals topic waits for a signal, in milliseconds. */
const WORK_SIGNALS_MAX_WAIT_MS = 1_000;
/** Topics whose delivery shard is remembered (endpoints beyond it are hashed again, no more). */
const SHARD_CACHE_TOPICS = 100_000;
const OWN_FAULT = "own-fault";

/** One record handed to an endpoint's lane. */
interface DeliveryJob extends LaneJob {
  source: DeliverySource;
  message: KafkaMessage;
  request: DeliveryRequestRecord;
}

/**
 * The sender: reads every endpoint's delivery topic and the retry topics, and attempts each
 * delivery in its endpoint's lane.
 *
 * Each record read goes through one pure rule (`decide`): hold its partition (a retry not due, an
 * endpoint not known yet, a paused or full endpoint's own topic), park it (a retry whose endpoint
 * cannot take it now moves to the endpoint's own topic, so a shared retry partition never waits
 * for one endpoint), skip it, dead-letter it, or submit it to the endpoint's lane. One
 * PartitionGate per consumer owns every pause, seek and resume.
 *
 * Consuming never waits for HTTP, and a lane slot is freed when the HTTP attempt ends; the
 * records it leads to (`recordsForAttempt`) are then written by DeliveryWrites, retried until written.
 * Offsets are committed only up to the lowest record whose records are not yet acknowledged
 * (OffsetTracker), so a kill at any moment re-reads, and re-attempts, at most what was in
 * flight: at-least-once. Our own faults (a secret we cannot open) spend no attempt: the
 * endpoint's lane is held, the sender reports not-ready, and the delivery is tried again later.
 */
export class SenderService {
  readonly #deps: SenderServiceDeps;
  readonly #lanes: EndpointLanes<DeliveryJob>;
  readonly #trackers: Record<DeliverySource, OffsetTracker> = { delivery: new OffsetTracker(), retry: new OffsetTracker() };
  readonly #consumers: Partial<Record<DeliverySource, KafkaConsumer>> = {};
  #delivery: ShardedConsumer | null = null;
  /** Reads the router's work signals (a group of this process's own: every sender sees every signal). */
  #workSignals: KafkaConsumer | null = null;
  /** New endpoints' topics subscribed to soon (gathered for a moment). */
  readonly #topicsToAdd = new Set<string>();
  readonly #gates: Partial<Record<DeliverySource, PartitionGate>> = {};
  readonly #committers: Partial<Record<DeliverySource, OffsetCommitter>> = {};
  /** Endpoints seen in deliveries but not (yet) in the directory, since when (epoch ms). */
  readonly #unknownSince = new Map<string, number>();
  /** Timed releases of lanes held for a fault of ours, by endpoint. */
  readonly #ownFaultRetries = new Map<string, () => void>();
  /** Endpoints whose last try was a fault of ours and that have not been attempted since. */
  readonly #ownFaulted = new Set<string>();
  /** Writes whose records are not acknowledged yet (their offsets stay uncommitted). */
  readonly #pending = new Set<Promise<void>>();
  readonly #writes: DeliveryWrites;
  readonly #retryDue = new RetryDueWatch();
  readonly #lookahead: RetryLookahead;
  readonly #secrets: OpenedSecrets;
  #commitTimer: NodeJS.Timeout | null = null;
  #refreshPending = false;
  #unsubscribe: (() => void) | null = null;

  constructor(deps: SenderServiceDeps) {
    this.#deps = deps;
    this.#secrets = new OpenedSecrets(deps.secretBox);
    this.#lookahead = new RetryLookahead(deps.clock, deps.retryLookaheadMax);
    this.#writes = new DeliveryWrites({ ...deps, writer: new BatchingWriter((batches) => deps.producer.sendBatch(batches)) });
    this.#lanes = new EndpointLanes<DeliveryJob>({
      globalMaxInFlight: deps.globalMaxInFlight,
      organizationMaxInFlight: deps.organizationMaxInFlight,
      clock: deps.clock,
      onJobError: (endpointId, error) => {
        // Jobs catch what they can; this is a bug. The record stays uncommitted and is re-read after a restart.
        deps.metrics.jobErrors.inc();
        deps.logger.error({ err: error, endpointId }, "delivery job failed; its record stays uncommitted");
      },
      onJobSettled: (endpointId) => this.#releaseBacklog(endpointId),
    });
  }

  async start(): Promise<void> {
    const { kafka, naming, groupId, directory } = this.#deps;
    this.#unsubscribe = directory.onChange((change) => this.#onEndpointChange(change.endpointId, change.previous, change.current));
    for (const endpoint of directory.all()) if (endpoint.status === "PAUSED") this.#lanes.hold(endpoint.endpointId, PAUSED);

    const shards = this.#deps.deliveryShards;
    // Each shard's topic refresh asks for the shard of every topic listed: hashed once per topic.
    const shardCache = new BoundedCache<number>(SHARD_CACHE_TOPICS);
    const shardOf = (topic: string) => shardCache.getOrMake(topic, () => deliveryShardOf(topic, shards));
    const periodicTopicListing = this.#sharedTopicListing();
    const intervals = { unsignalledMs: this.#deps.endOffsetPollMs, signalledMs: this.#deps.endOffsetPollSignalledMs ?? this.#deps.endOffsetPollMs };
    const pollIntervalMs = () => endOffsetPollMs(this.#workSignals?.status() === "running", intervals);
    // One topic per endpoint, most of them idle: only partitions with records are fetched, and
    // the topics are split over shard groups so a new endpoint rebalances one small group.
    const delivery = createShardedConsumer(
      Array.from({ length: shards }, (_, shard) =>
        kafka.createConsumer({
          groupId: deliveryShardGroupId(groupId, shard, shards),
          topics: [deliveryTopicPattern(naming)],
          topicFilter: (topic) => shardOf(topic) === shard,
          fromBeginning: true,
          topicRefreshIntervalMs: this.#deps.topicRefreshMs,
          periodicTopicListing,
          readOnlyWithWork: {
            pollIntervalMs,
            lingerMs: this.#deps.partitionLingerMs,
            maxLingering: Math.ceil(this.#deps.maxLingeringPartitions / shards),
            inheritOffsets: (partitions) => this.#offsetsOfOtherLayouts(partitions),
          },
          ...this.#groupTimeouts(),
          maxBytesPerPartition: this.#deps.fetchBytesPerPartition,
        }),
      ),
      shardOf,
      (error, event) => this.#deps.logger.error({ err: error, event }, "delivery consumer event listener failed"),
    );
    this.#delivery = delivery;
    const consumers: Record<DeliverySource, KafkaConsumer> = {
      delivery,
      // A pattern: retry topics are named by their delay, and those of an older schedule still drain.
      retry: kafka.createConsumer({ groupId: `${groupId}.retry`, topics: [retryTopicPattern(naming)], fromBeginning: true, topicRefreshIntervalMs: this.#deps.topicRefreshMs, ...this.#groupTimeouts() }),
    };
    for (const source of ["delivery", "retry"] as const) {
      const consumer = consumers[source];
      this.#consumers[source] = consumer;
      this.#gates[source] = new PartitionGate(consumer, this.#deps.clock);
      this.#committers[source] = new OffsetCommitter(this.#trackers[source], (offsets) => consumer.commit(offsets), (error) =>
        this.#deps.logger.warn({ err: error, source }, "offset commit failed"),
      );
      consumer.on("groupJoin", ({ assignment }) => this.#forgetRevoked(source, assignment));
    }
    const run = (source: DeliverySource, consumer: KafkaConsumer) =>
      consumer.run({
        autoCommit: false,
        autoResolveBatch: false,
        partitionsConsumedConcurrently: 8,
        eachBatch: (batch, context) => this.#handleBatch(source, batch, context),
        onHandlerError: (error, context) => {
          this.#deps.logger.error({ err: error, source, ...context }, "reading deliveries failed; the batch will be read again");
          return "rethrow";
        },
      });
    await Promise.all([run("delivery", consumers.delivery), run("retry", consumers.retry), this.#startWorkSignals()]);
    this.#commitTimer = setInterval(() => void this.#tick(), this.#deps.commitIntervalMs);
    this.#commitTimer.unref();
  }

  /**
   * Stops taking records and starting attempts, lets attempts in flight finish and their records
   * be written, commits, and leaves the groups. Queued and held records stay uncommitted: they are
   * read again.
   */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    for (const consumer of Object.values(this.#consumers)) consumer.pause(consumer.assignment());
    this.#lanes.close();
    // Retries timed in memory stay uncommitted and are read again: none may be dispatched now.
    this.#lookahead.clear();
    await this.#lanes.whenIdle();
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
    if (this.#commitTimer) clearInterval(this.#commitTimer);
    await this.#commit();
    for (const gate of Object.values(this.#gates)) gate.clear();
    for (const cancel of this.#ownFaultRetries.values()) cancel();
    this.#ownFaultRetries.clear();
    await Promise.all([...Object.values(this.#consumers), ...(this.#workSignals ? [this.#workSignals] : [])].map((consumer) => consumer.disconnect()));
  }

  /**
   * The router names the delivery topics it just wrote to on the work-signals topic; their
   * partitions are checked at once instead of at the next (slow) end-offset poll. Read from its
   * end by a group of this process only: a missed signal costs latency up to one poll, never a
   * record.
   */
  async #startWorkSignals(): Promise<void> {
    const consumer = this.#deps.kafka.createConsumer({
      groupId: `${this.#deps.groupId}.work-signals.${randomUUID()}`,
      topics: [topicNames(this.#deps.naming).workSignals],
      fromBeginning: false,
      ...this.#groupTimeouts(),
      // Never paused, so a longer wait delays nothing: the broker answers a fetch as soon as a
      // signal is written. 100 ms made it ten fetches a second while idle; a second keeps the
      // wait for this consumer at a stop short.
      maxWaitTimeMs: WORK_SIGNALS_MAX_WAIT_MS,
    });
    this.#workSignals = consumer;
    // It reads from the end at each join: signals written while it was away (starting,
    // rejoining) are lost, so every idle delivery partition is checked once it reads again.
    consumer.on("groupJoin", () => {
      const delivery = this.#delivery;
      if (delivery) delivery.checkForWork(delivery.topics());
    });
    await consumer.run({
      autoCommit: false,
      eachBatch: async (batch) => {
        const topics = new Set(batch.messages.flatMap((message) => decodeWorkSignal(message.value)));
        this.#delivery?.checkForWork([...topics]);
      },
      onHandlerError: () => "skip",
    });
  }

  /**
   * One topic listing for the shards' periodic refreshes (each every `topicRefreshMs`, at times
   * of their own): a listing younger than half that interval is reused, so 16 shards cost about
   * two listings of every topic per interval, not 16. A new endpoint's refresh lists afresh.
   */
  #sharedTopicListing(): () => Promise<string[]> {
    let last: { at: number; topics: Promise<string[]> } | null = null;
    return () => {
      const now = Date.now();
      if (last && now - last.at < this.#deps.topicRefreshMs / 2) return last.topics;
      const listing = { at: now, topics: this.#deps.kafka.admin.listTopics() };
      last = listing;
      // A failed listing is not reused.
      listing.topics.catch(() => {
        if (last === listing) last = null;
      });
      return listing.topics;
    };
  }

  /**
   * Where a delivery partition this shard group never committed starts: the offset the sender's
   * groups of another shard count (or the unsharded group) committed for it, the furthest if
   * several did. So changing SENDER_DELIVERY_SHARDS re-delivers nothing already delivered.
   */
  async #offsetsOfOtherLayouts(partitions: { topic: string; partition: number }[]): Promise<InheritedOffset[]> {
    const { kafka, groupId, deliveryShards } = this.#deps;
    const layouts = deliveryShardCountsIn(groupId, await kafka.admin.listGroups()).filter((shards) => shards !== deliveryShards);
    const furthest = new Map<string, InheritedOffset>();
    for (const shards of layouts) {
      const byGroup = new Map<string, Map<string, number[]>>();
      for (const { topic, partition } of partitions) {
        const group = deliveryGroupIdOf(groupId, topic, shards);
        const topics = byGroup.get(group) ?? new Map<string, number[]>();
        topics.set(topic, [...(topics.get(topic) ?? []), partition]);
        byGroup.set(group, topics);
      }
      for (const [group, topics] of byGroup) {
        const committed = await kafka.admin.fetchCommittedOffsets(group, [...topics].map(([topic, parts]) => ({ topic, partitions: parts })));
        for (const entry of committed) {
          if (entry.offset === null || BigInt(entry.offset) < 0n) continue;
          const key = `${entry.partition}:${entry.topic}`;
          const known = furthest.get(key);
          if (!known || BigInt(entry.offset) > BigInt(known.offset!)) furthest.set(key, entry);
        }
      }
    }
    return [...furthest.values()];
  }

  /** Ready: both consumers read (or join their groups), and no delivery is held for a fault of ours. */
  isReady(): boolean {
    const consumers = Object.values(this.#consumers);
    return consumers.length > 0 && consumers.every((consumer) => consumerProbe(consumer.status()).ready) && this.#ownFaulted.size === 0;
  }

  /** Live: no consumer has crashed or stopped for good (a fault of ours is not fixed by a restart). */
  isLive(): boolean {
    return Object.values(this.#consumers).every((consumer) => consumerProbe(consumer.status()).live);
  }

  /** Picks up a retry topic created just now (a delay of an older schedule). */
  refreshRetryTopics(): void {
    this.#consumers.retry?.refreshSubscription().catch((error: unknown) => this.#deps.logger.warn({ err: error }, "could not refresh the retry topic subscription"));
  }

  /** Deliveries of one endpoint queued or running in this sender. */
  endpointBacklog(endpointId: string): number {
    return this.#lanes.backlog(endpointId);
  }

  /**
   * Delivery partitions assigned to this sender, and what the work gate does with them: active
   * (records left to read), idle (kept paused), fetching (named in kafkajs's fetches).
   */
  deliveryPartitions(): { assigned: number; active: number; idle: number; fetching: number } {
    const consumer = this.#consumers.delivery;
    const assigned = (consumer?.assignment() ?? []).reduce((sum, { partitions }) => sum + (partitions?.length ?? 0), 0);
    return { assigned, ...(consumer?.workPartitions() ?? { active: 0, idle: 0, fetching: 0 }) };
  }

  /** Calls `listener` with the shard group's id each time a delivery shard group (re)joins. */
  onDeliveryGroupJoin(listener: (groupId: string) => void): () => void {
    return this.#delivery?.on("groupJoin", ({ groupId }) => listener(groupId)) ?? (() => {});
  }

  /** The consumer group that reads (and commits) a delivery topic: its shard's. */
  deliveryGroupIdOf(topic: string): string {
    return deliveryGroupIdOf(this.#deps.groupId, topic, this.#deps.deliveryShards);
  }

  /** Lanes kept in memory, and endpoints waited for as unknown (both must shrink when idle). */
  memoryFootprint(): { lanes: number; unknownEndpoints: number } {
    return { lanes: this.#lanes.size, unknownEndpoints: this.#unknownSince.size };
  }

  #groupTimeouts() {
    return {
      sessionTimeoutMs: this.#deps.sessionTimeoutMs,
      // The sender pauses and resumes partitions all the time (retries not yet due, full lanes,
      // paused endpoints), and a resumed partition is read only once the fetch in progress
      // returns. Short fetches keep that to a tenth of a second instead of a second.
      maxWaitTimeMs: 100,
    };
  }

  async #handleBatch(source: DeliverySource, batch: KafkaBatch, context: BatchContext): Promise<void> {
    for (const message of batch.messages) {
      if (!context.isRunning() || context.isStale()) return;
      if (!(await this.#take(source, message))) return;
      context.resolveOffset(message.offset);
    }
  }

  /** Handles one record; false when its partition was held at it (it is read again later). */
  async #take(source: DeliverySource, message: KafkaMessage): Promise<boolean> {
    const tracker = this.#trackers[source];
    // Read again after a rebalance that left this partition here: already handled or in flight.
    if (tracker.hasSeen(message.topic, message.partition, message.offset)) return true;

    let request: DeliveryRequestRecord;
    try {
      if (message.value === null) throw new DecodeError("delivery record has no value");
      request = await this.#deps.records.decode("delivery-request", message.value);
    } catch (error) {
      if (error instanceof NovatradeError && error.retriable) throw error;
      tracker.begin(message.topic, message.partition, message.offset);
      this.#finishWith(source, message, () => this.#writes.deadLetter(message, error as Error));
      return true;
    }

    if (source === "retry") this.#retryDue.seen(message.topic, message.partition, message.offset, request.notBefore);
    const now = this.#deps.clock.now();
    const decision = decide(request, source, this.#view(request.endpointId, now), now);
    const aheadMs = source === "retry" ? dueSoonWaitMs(decision, retryLookaheadMs(request.retrySchedule, request.attempt)) : null;
    if (aheadMs !== null && this.#lookahead.hasRoom()) {
      // Due within its tier's jitter spread: timed in memory, and the records behind it read on.
      tracker.begin(message.topic, message.partition, message.offset);
      const kept = detachedMessage(message);
      this.#lookahead.schedule(message.topic, message.partition, message.offset, aheadMs, () => this.#takeDueRetry(kept, request));
      return true;
    }
    if (decision.action === "hold") {
      this.#deps.logger.debug({ topic: message.topic, partition: message.partition, offset: message.offset, reason: decision.reason }, "holding partition");
      this.#gates[source]!.hold(message, decision.reason, decision.recheckAfterMs);
      this.#deps.metrics.heldPartitions.set(this.#gates.retry?.count("not-due") ?? 0);
      return false;
    }
    tracker.begin(message.topic, message.partition, message.offset);
    // Queued jobs outlive their batch: they must not keep its fetch response alive.
    const job: DeliveryJob = { source, message: detachedMessage(message), request, run: () => this.#attempt(job) };
    this.#dispatch(job, decision);
    return true;
  }

  /** A retry taken ahead of its due time (`RetryLookahead`) is due, or to be looked at again. */
  #takeDueRetry(message: KafkaMessage, request: DeliveryRequestRecord): void {
    const now = this.#deps.clock.now();
    const decision = decide(request, "retry", this.#view(request.endpointId, now), now);
    if (decision.action === "hold" && decision.recheckAfterMs !== null) {
      // Not due after all (a timer a millisecond early), or its endpoint is not known yet.
      this.#lookahead.schedule(message.topic, message.partition, message.offset, decision.recheckAfterMs, () => this.#takeDueRetry(message, request));
      return;
    }
    const job: DeliveryJob = { source: "retry", message, request, run: () => this.#attempt(job) };
    this.#dispatch(job, decision);
  }

  /** A taken record: into its endpoint's lane, or settled without an attempt (a hold here parks). */
  #dispatch(job: DeliveryJob, decision: Decision): void {
    if (decision.action === "submit") {
      const { endpoint } = decision;
      this.#lanes.submit(job.request.endpointId, { maxInFlight: endpoint.maxInFlight, rateLimitPerSecond: endpoint.rateLimitPerSecond, organizationUuid: endpoint.organizationUuid }, job);
    } else {
      this.#settle(job, decision);
    }
  }

  #view(endpointId: string, now: number): EndpointView {
    const config = this.#deps.directory.get(endpointId);
    const deleted = !config && this.#deps.directory.isDeleted(endpointId);
    let unknownSince: number | undefined;
    if (config || deleted) this.#unknownSince.delete(endpointId);
    else {
      unknownSince = this.#unknownSince.get(endpointId) ?? now;
      this.#unknownSince.set(endpointId, unknownSince);
    }
    return { config, deleted, unknownSince, backlog: this.#lanes.backlog(endpointId), backlogLimit: this.#deps.endpointBacklogLimit, laneHeld: this.#lanes.isHeld(endpointId) };
  }

  /** A record that is not attempted: parked, skipped or dead-lettered, then done. */
  #settle(job: DeliveryJob, decision: Exclude<Decision, { action: "submit" }>): void {
    const { request, message, source } = job;
    const { metrics, clock } = this.#deps;
    if (decision.action === "skip") {
      this.#clearOwnFault(request.endpointId);
      metrics.skipped.inc({ reason: decision.reason });
      this.#finishWith(source, message, () => this.#writes.attemptRecords(message, request, recordsForSkip(request, decision.reason, clock.now())));
    } else if (decision.action === "dead-letter") {
      this.#deps.logger.warn({ endpointId: request.endpointId, deliveryId: request.deliveryId, reason: decision.reason }, "refusing a delivery request: dead-lettered");
      this.#finishWith(source, message, () => this.#writes.deadLetter(message, new ValidationError("organizationUuid", `${decision.reason}: the request's organization is not its endpoint's`)));
    } else {
      // A hold decided at run time (the endpoint was paused while the job queued) parks too.
      // Parked records go to the endpoint's own topic: look at it now, not at the next poll.
      const topic = deliveryTopic(this.#deps.naming, request.endpointId);
      this.#finishWith(source, message, () => this.#writes.park(request).then(() => this.#delivery?.checkForWork([topic])));
    }
  }

  /** The lane's part of a job: the HTTP attempt. Writing what it led to happens after the slot is freed. */
  async #attempt(job: DeliveryJob): Promise<void> {
    const { request, source, message } = job;
    const { clock, metrics } = this.#deps;
    const startedAt = clock.now();
    // The endpoint may have changed while the job waited in its lane.
    const decision = decide(request, source, { ...this.#view(request.endpointId, startedAt), backlog: 0, laneHeld: false }, startedAt);
    if (decision.action !== "submit") return this.#settle(job, decision);
    if (request.attempt > 1) metrics.retryLateness.observe(Math.max(0, startedAt - request.notBefore) / 1000);
    metrics.inFlight.inc();
    let result: AttemptResult | OwnFault;
    try {
      result = await attemptDelivery(request, decision.endpoint, { http: this.#deps.http, secretBox: this.#secrets, nowMs: startedAt });
    } catch (error) {
      // The HTTP client never throws for what the receiver does; anything else is ours.
      result = { ownFault: true, reason: "signing_failed", message: (error as Error).message };
    } finally {
      metrics.inFlight.dec();
    }
    if (isOwnFault(result)) return this.#holdForOwnFault(job, result);
    this.#clearOwnFault(request.endpointId);
    const eventType = eventTypeLabel(request.eventType);
    const errorClass = result.ok ? "none" : result.errorClass;
    metrics.attempts.inc({ result: result.ok ? "success" : "failure", error_class: errorClass, event_type: eventType });
    metrics.attemptDuration.observe({ result: result.ok ? "success" : "failure" }, result.latencyMs / 1000);
    const endedAt = clock.now();
    const records = recordsForAttempt(request, result, {
      naming: this.#deps.naming,
      startedAt,
      endedAt,
      random: this.#deps.random,
      jitterRatio: this.#deps.jitterRatio,
    });
    if (records.outcome.result === "FAILED_TERMINAL") {
      metrics.terminalFailures.inc();
      metrics.deliveries.inc({ result: "failed_terminal", error_class: errorClass, event_type: eventType });
    } else if (records.outcome.result === "SUCCEEDED") {
      metrics.deliveries.inc({ result: "succeeded", error_class: "none", event_type: eventType });
      const seconds = endToEndSeconds(request, endedAt);
      if (seconds !== null) metrics.endToEnd.observe({ event_type: eventType }, seconds);
    }
    this.#finishWith(source, message, () => this.#writes.attemptRecords(message, request, records));
  }

  /**
   * Our fault (a secret we cannot open, none valid now): no attempt is counted and no outcome
   * written. The endpoint's lane is held and tried again after `ownFaultRetryMs`; meanwhile the
   * sender is not ready and the metric says why.
   */
  #holdForOwnFault(job: DeliveryJob, fault: OwnFault): void {
    const { endpointId } = job.request;
    const { metrics, logger, clock, ownFaultRetryMs } = this.#deps;
    metrics.ownFaults.inc({ reason: fault.reason });
    logger.error({ endpointId, reason: fault.reason, error: fault.message, retryInMs: ownFaultRetryMs }, "cannot sign deliveries for this endpoint (our fault, not counted as an attempt): holding them");
    this.#lanes.hold(endpointId, OWN_FAULT);
    this.#ownFaulted.add(endpointId);
    metrics.heldForOwnFault.set(this.#ownFaulted.size);
    if (!this.#ownFaultRetries.has(endpointId)) {
      this.#ownFaultRetries.set(
        endpointId,
        clock.schedule(ownFaultRetryMs, () => {
          this.#ownFaultRetries.delete(endpointId);
          this.#releaseLane(endpointId, OWN_FAULT);
        }),
      );
    }
    this.#parkQueuedRetries(endpointId);
    if (job.source === "retry") this.#settle(job, { action: "park", reason: "endpoint-held" });
    else this.#lanes.requeueFirst(endpointId, job);
  }

  /** The endpoint was attempted (or skipped) again: our fault is gone for it. */
  #clearOwnFault(endpointId: string): void {
    if (this.#ownFaulted.delete(endpointId)) this.#deps.metrics.heldForOwnFault.set(this.#ownFaulted.size);
  }

  /** A held lane keeps nothing of a shared retry partition: its queued retries move to the endpoint's own topic. */
  #parkQueuedRetries(endpointId: string): void {
    for (const job of this.#lanes.drain(endpointId, (queued) => queued.source === "retry")) this.#settle(job, { action: "park", reason: "endpoint-held" });
    this.#releaseBacklog(endpointId);
  }

  #releaseLane(endpointId: string, reason: string): void {
    this.#lanes.release(endpointId, reason);
    if (!this.#lanes.isHeld(endpointId)) this.#gates.delivery?.releaseTopic(deliveryTopic(this.#deps.naming, endpointId), "endpoint-held");
  }

  /**
   * Runs the writes a record leads to; the record counts as done (its offset may be committed)
   * only once they are acknowledged. Not awaited by the caller: the lane slot is already free.
   */
  #finishWith(source: DeliverySource, message: KafkaMessage, write: () => Promise<void>): void {
    const done = write()
      .catch((error: unknown) => {
        // Unreachable by design (writes retry until written); a bug keeps the record uncommitted.
        this.#deps.metrics.jobErrors.inc();
        this.#deps.logger.error({ err: error, topic: message.topic, offset: message.offset }, "finishing a delivery failed; its record stays uncommitted");
        throw error;
      })
      .then(() => {
        this.#trackers[source].complete(message.topic, message.partition, message.offset);
        if (source === "retry") this.#retryDue.done(message.topic, message.partition, message.offset);
      })
      .catch(() => {})
      .finally(() => this.#pending.delete(done));
    this.#pending.add(done);
  }

  #releaseBacklog(endpointId: string): void {
    if (this.#lanes.backlog(endpointId) > this.#deps.endpointBacklogLimit / 2) return;
    this.#gates.delivery?.releaseTopic(deliveryTopic(this.#deps.naming, endpointId), "backlog-full");
  }

  #onEndpointChange(endpointId: string, previous: EndpointConfig | null, current: EndpointConfig | null): void {
    const wasPaused = previous?.status === "PAUSED";
    const isPaused = current?.status === "PAUSED";
    if (isPaused && !wasPaused) {
      this.#lanes.hold(endpointId, PAUSED);
      this.#parkQueuedRetries(endpointId);
      this.#deps.logger.info({ endpointId }, "endpoint paused: holding its deliveries");
    }
    if (!isPaused && wasPaused) {
      // Resumed, disabled or deleted: the held records run and find out which.
      this.#releaseLane(endpointId, PAUSED);
      this.#deps.logger.info({ endpointId }, "endpoint resumed: delivering held deliveries");
    }
    if (current !== null) this.#unknownSince.delete(endpointId);
    if (previous === null && current !== null) this.#refreshSubscriptionSoon(deliveryTopic(this.#deps.naming, endpointId));
  }

  /**
   * A new endpoint's topic is picked up now rather than at the next periodic refresh, by its
   * shard only: the other shards' groups do not rebalance. The topic is named, not looked for
   * (it is created before the endpoint is announced; the periodic refresh catches one that was
   * not). New endpoints in quick succession (a bulk registration) are gathered for 200 ms into
   * one re-subscription per shard.
   */
  #refreshSubscriptionSoon(topic: string): void {
    this.#topicsToAdd.add(topic);
    if (this.#refreshPending) return;
    this.#refreshPending = true;
    setTimeout(() => {
      this.#refreshPending = false;
      const topics = [...this.#topicsToAdd];
      this.#topicsToAdd.clear();
      this.#delivery?.subscribeAlso(topics).catch((error: unknown) => {
        this.#deps.logger.warn({ err: error }, "could not subscribe to new delivery topics; the periodic refresh will");
      });
    }, 200).unref();
  }

  #forgetRevoked(source: DeliverySource, assignment: TopicPartitions[]): void {
    const assigned = new Set(assignment.flatMap(({ topic, partitions }) => (partitions ?? []).map((partition) => `${partition}:${topic}`)));
    this.#trackers[source].retainOnly(assigned);
    this.#gates[source]?.retainOnly(assigned);
    if (source === "retry") {
      this.#retryDue.retainOnly(assigned);
      this.#lookahead.retainOnly(assigned);
    }
  }

  /** Due time (epoch ms) of the oldest retry read and not yet finished, per retry topic. */
  oldestRetryDueByTopic(): Map<string, number> {
    return this.#retryDue.oldestDueByTopic();
  }

  /** Periodic: commit, and forget what no longer needs remembering. */
  async #tick(): Promise<void> {
    this.#lanes.sweep();
    this.#deps.metrics.heldPartitions.set(this.#gates.retry?.count("not-due") ?? 0);
    this.#deps.metrics.retriesTimedInMemory.set(this.#lookahead.size);
    const now = this.#deps.clock.now();
    for (const [endpointId, since] of this.#unknownSince) if (now - since > 2 * 60_000) this.#unknownSince.delete(endpointId);
    await this.#commit();
  }

  async #commit(): Promise<void> {
    await Promise.all(Object.values(this.#committers).map((committer) => committer.commitNow()));
  }
}
