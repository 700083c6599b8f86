import { createHash } from "node:crypto";
import type { Logger } from "pino";
import {
  deliveryTopic,
  deliveryTopicPattern,
  DecodeError,
  NovatradeError,
  nextAttemptDelay,
  retryTierFor,
  retryTopic,
  retryTopics,
  topicNames,
  type TopicNaming,
} from "@novatrade/domain";
import { deadLetterFor, type DeliveryOutcomeRecord, type DeliveryRequestRecord, type RecordCodec } from "@novatrade/event-codec";
import type { EndpointConfig, EndpointDirectory, SecretBox } from "@novatrade/endpoint-config";
import type { BatchContext, TopicPartitions, KafkaBatch, KafkaClient, KafkaConsumer, KafkaMessage, KafkaProducer } from "@novatrade/kafka";
import type { EventProducer } from "@novatrade/producer";
import type { Clock } from "./clock.js";
import { BatchingWriter, type TopicRecord } from "./batching-writer.js";
import { attemptDelivery } from "./delivery-attempt.js";
import { EndpointLanes } from "./endpoint-lanes.js";
import type { AttemptResult, HttpDelivery } from "./http-delivery.js";
import type { SenderMetrics } from "./metrics.js";
import { OffsetTracker } from "./offset-tracker.js";

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
  /** Retry topics read: one per tier of the configured schedule. */
  retryTierCount: number;
  deliveryTopicPartitions: number;
  groupId: string;
  jitterRatio: number;
  globalMaxInFlight: number;
  endpointBacklogLimit: number;
  /** Milliseconds. */
  commitIntervalMs: number;
  /** Milliseconds. */
  topicRefreshMs: number;
  /** Milliseconds. */
  sessionTimeoutMs: number;
  clock: Clock;
  random: () => number;
  metrics: SenderMetrics;
  logger: Logger;
}

type Source = "delivery" | "retry";

/** How long a delivery for an endpoint this sender has not heard of waits for it, in milliseconds. */
export const UNKNOWN_ENDPOINT_GRACE_MS = 60_000;

/** Header on a delivery request moved back to its endpoint's topic while the endpoint is paused. */
export const PARKED_HEADER = "novatrade-parked";

/**
 * The sender: reads every endpoint's delivery topic and the retry tier topics, and attempts each
 * delivery in its endpoint's lane.
 *
 * Consuming never waits for HTTP: a record is handed to its endpoint's lane and the consumer
 * moves on, so a slow or hanging endpoint never holds up another. Offsets are committed only up
 * to the lowest record still being worked on (OffsetTracker), and a record's work ends only when
 * its outcome, and its retry or meta event, are acknowledged by Kafka. A kill at any moment
 * therefore re-reads, and re-attempts, at most what was in flight: at-least-once.
 *
 * Back-pressure never spends an attempt: a paused endpoint's lane is held and its delivery topic
 * paused; a due retry of a paused endpoint is moved back to the endpoint's own delivery topic
 * (parked) with its attempt number unchanged; a retry that is not due yet holds its tier
 * partition (paused and re-read from it) until it is.
 */
export class SenderService {
  readonly #deps: SenderServiceDeps;
  readonly #lanes: EndpointLanes;
  readonly #trackers: Record<Source, OffsetTracker> = { delivery: new OffsetTracker(), retry: new OffsetTracker() };
  readonly #consumers: Partial<Record<Source, KafkaConsumer>> = {};
  /** Retry partitions paused until their head is due, with the cancel of their wake-up. */
  readonly #heldPartitions = new Map<string, () => void>();
  /** Endpoints whose delivery topic is paused because their lane is full. */
  readonly #backlogged = new Set<string>();
  /** Endpoints seen in deliveries but not (yet) in the directory, since when (epoch ms). */
  readonly #unknownSince = new Map<string, number>();
  readonly #topics;
  readonly #writer: BatchingWriter;
  #commitTimer: NodeJS.Timeout | null = null;
  #refreshPending = false;
  #unsubscribe: (() => void) | null = null;

  constructor(deps: SenderServiceDeps) {
    this.#deps = deps;
    this.#topics = topicNames(deps.naming);
    this.#writer = new BatchingWriter((batches) => deps.producer.sendBatch(batches));
    this.#lanes = new EndpointLanes({
      globalMaxInFlight: deps.globalMaxInFlight,
      clock: deps.clock,
      onJobError: (endpointId, error) => {
        deps.metrics.jobErrors.inc();
        deps.logger.error({ err: error, endpointId }, "delivery job failed; its record stays uncommitted");
      },
      // Here, not inside the job: a job still counts in its lane's backlog until it settled, and
      // jobs whose writes share one produce request all settle in the same tick.
      onJobSettled: (endpointId) => this.#releaseBacklog(endpointId),
    });
  }

  async start(): Promise<void> {
    const { kafka, naming, groupId, directory } = this.#deps;
    this.#unsubscribe = directory.onChange((change) => this.#onEndpointChange(change.endpointId, change.previous, change.current));

    const delivery = kafka.createConsumer({
      groupId,
      topics: [deliveryTopicPattern(naming)],
      fromBeginning: true,
      topicRefreshIntervalMs: this.#deps.topicRefreshMs,
      ...this.#groupTimeouts(),
    });
    const retry = kafka.createConsumer({
      groupId: `${groupId}.retry`,
      topics: retryTopics(naming, this.#deps.retryTierCount),
      fromBeginning: true,
      ...this.#groupTimeouts(),
    });
    this.#consumers.delivery = delivery;
    this.#consumers.retry = retry;
    for (const [source, consumer] of [["delivery", delivery], ["retry", retry]] as const) {
      consumer.on("groupJoin", ({ assignment }) => this.#forgetRevoked(source, assignment));
    }
    for (const endpoint of directory.all()) {
      if (endpoint.status === "PAUSED") this.#holdEndpoint(endpoint.endpointId);
    }

    const run = (source: Source, consumer: KafkaConsumer) =>
      consumer.run({
        autoCommit: false,
        autoResolveBatch: false,
        partitionsConsumedConcurrently: 8,
        eachBatch: (batch, context) => this.#handleBatch(source, consumer, batch, context),
        onHandlerError: (error, context) => {
          this.#deps.logger.error({ err: error, source, ...context }, "reading deliveries failed; the batch will be read again");
          return "rethrow";
        },
      });
    await Promise.all([run("delivery", delivery), run("retry", retry)]);
    this.#commitTimer = setInterval(() => void this.#commit(), this.#deps.commitIntervalMs);
    this.#commitTimer.unref();
  }

  /**
   * Stops taking records, lets attempts in flight finish (their outcomes are written), commits,
   * and leaves the groups. Held lanes keep their records uncommitted: they are read again.
   */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    for (const consumer of Object.values(this.#consumers)) consumer.pause(consumer.assignment());
    await this.#lanes.whenIdle();
    if (this.#commitTimer) clearInterval(this.#commitTimer);
    await this.#commit();
    for (const cancel of this.#heldPartitions.values()) cancel();
    this.#heldPartitions.clear();
    await Promise.all(Object.values(this.#consumers).map((consumer) => consumer.disconnect()));
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

  isHealthy(): boolean {
    return Object.values(this.#consumers).every((consumer) => {
      const status = consumer.status();
      return status === "running" || status === "starting" || status === "restarting" || status === "waiting-for-topics";
    });
  }

  async #handleBatch(source: Source, consumer: KafkaConsumer, batch: KafkaBatch, context: BatchContext): Promise<void> {
    for (const message of batch.messages) {
      if (!context.isRunning() || context.isStale()) return;
      const taken = await this.#take(source, consumer, message);
      if (!taken) return;
      context.resolveOffset(message.offset);
    }
  }

  /** Hands one record on; false when its partition was paused at it (it is read again later). */
  async #take(source: Source, consumer: KafkaConsumer, message: KafkaMessage): Promise<boolean> {
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
      await this.#durably(() => this.#deadLetter(message, error as Error));
      tracker.complete(message.topic, message.partition, message.offset);
      return true;
    }

    const now = this.#deps.clock.now();
    // Only retries wait for their due time. A first attempt is due when routed; comparing the
    // router's clock with this host's would hold every new delivery for the clock skew.
    if (request.attempt > 1 && request.notBefore > now) {
      this.#holdPartitionUntil(consumer, message, request.notBefore - now);
      return false;
    }
    const endpoint = this.#deps.directory.get(request.endpointId);
    if (!endpoint && !this.#deps.directory.isDeleted(request.endpointId)) {
      // Registered a moment ago and not in this view yet: wait for it rather than skip a
      // delivery the router rightly made. Past the grace period it is an endpoint nobody knows.
      const since = this.#unknownSince.get(request.endpointId) ?? now;
      this.#unknownSince.set(request.endpointId, since);
      if (now - since < UNKNOWN_ENDPOINT_GRACE_MS) {
        this.#holdPartitionUntil(consumer, message, 500);
        return false;
      }
    } else {
      this.#unknownSince.delete(request.endpointId);
    }
    if (source === "retry" && endpoint?.status === "PAUSED") {
      tracker.begin(message.topic, message.partition, message.offset);
      await this.#durably(() => this.#park(request));
      tracker.complete(message.topic, message.partition, message.offset);
      return true;
    }
    if (source === "delivery" && this.#lanes.backlog(request.endpointId) >= this.#deps.endpointBacklogLimit) {
      // The lane is full: stop reading this endpoint's topic, at this record, until it drains.
      this.#deps.logger.debug({ endpointId: request.endpointId, topic: message.topic, offset: message.offset }, "endpoint backlog full: pausing its topic");
      consumer.pause([{ topic: message.topic, partitions: [message.partition] }]);
      consumer.seek({ topic: message.topic, partition: message.partition, offset: message.offset });
      this.#backlogged.add(request.endpointId);
      return false;
    }
    tracker.begin(message.topic, message.partition, message.offset);
    const limits = { maxInFlight: endpoint?.maxInFlight ?? 1, rateLimitPerSecond: endpoint?.rateLimitPerSecond ?? null };
    this.#lanes.submit(request.endpointId, limits, {
      run: async () => {
        await this.#deliver(request);
        // Only after success: on an unexpected error the record stays in flight, uncommitted,
        // and a restart attempts it again rather than losing it (the lanes log and count it).
        tracker.complete(message.topic, message.partition, message.offset);
      },
    });
    return true;
  }

  /** One attempt and everything it leads to, written durably before the record counts as done. */
  async #deliver(request: DeliveryRequestRecord): Promise<void> {
    const { clock, metrics } = this.#deps;
    const endpoint = this.#deps.directory.get(request.endpointId);
    if (!endpoint || endpoint.status === "DISABLED") {
      const reason = endpoint ? "endpoint_disabled" : this.#deps.directory.isDeleted(request.endpointId) ? "endpoint_deleted" : "endpoint_unknown";
      metrics.skipped.inc({ reason });
      const skipped = await this.#outcome(request, "SKIPPED", null, clock.now(), { errorClass: reason });
      await this.#durably(() => this.#send([skipped]));
      return;
    }
    const startedAt = clock.now();
    metrics.inFlight.inc();
    let result: AttemptResult;
    try {
      result = await attemptDelivery(request, endpoint, { http: this.#deps.http, secretBox: this.#deps.secretBox, nowMs: startedAt });
    } finally {
      metrics.inFlight.dec();
    }
    metrics.attempts.inc({ result: result.ok ? "success" : "failure", error_class: result.ok ? "none" : result.errorClass });
    metrics.attemptDuration.observe({ result: result.ok ? "success" : "failure" }, result.latencyMs / 1000);

    const records: Array<Promise<TopicRecord>> = [];
    let emitTerminal = false;
    if (result.ok) {
      records.push(this.#outcome(request, "SUCCEEDED", result, startedAt));
    } else {
      const delay = nextAttemptDelay(request.retrySchedule, request.attempt, this.#deps.random, this.#deps.jitterRatio);
      if (delay === null) {
        metrics.terminalFailures.inc();
        records.push(this.#outcome(request, "FAILED_TERMINAL", result, startedAt));
        // Meta events never trigger meta events: that would loop.
        emitTerminal = !request.isMeta;
      } else {
        const dueAt = clock.now() + delay;
        const tier = Math.min(retryTierFor(request.retrySchedule, request.attempt) ?? 0, this.#deps.retryTierCount - 1);
        const next: DeliveryRequestRecord = {
          ...request,
          attempt: request.attempt + 1,
          firstAttemptAt: request.firstAttemptAt ?? startedAt,
          notBefore: dueAt,
        };
        records.push(
          this.#deps.records
            .encode("delivery-request", next)
            .then((value) => ({ topic: retryTopic(this.#deps.naming, tier), message: { key: request.eventId, value } })),
        );
        records.push(this.#outcome(request, "FAILED_RETRYING", result, startedAt, { nextAttemptAt: dueAt }));
      }
    }
    const encoded = await Promise.all(records);
    await this.#durably(() => this.#send(encoded));
    if (emitTerminal && !result.ok) await this.#durably(() => this.#emitTerminalFailure(request, result, startedAt));
  }

  async #outcome(
    request: DeliveryRequestRecord,
    result: DeliveryOutcomeRecord["result"],
    attempt: AttemptResult | null,
    attemptedAt: number,
    extra: { nextAttemptAt?: number; errorClass?: string } = {},
  ): Promise<TopicRecord> {
    const outcome: DeliveryOutcomeRecord = {
      deliveryId: request.deliveryId,
      eventId: request.eventId,
      eventType: request.eventType,
      endpointId: request.endpointId,
      organizationUuid: request.organizationUuid,
      attempt: attempt ? request.attempt : 0,
      result,
      statusCode: attempt?.statusCode ?? null,
      latencyMs: attempt?.latencyMs ?? null,
      responseBody: attempt?.responseBody ?? null,
      errorClass: extra.errorClass ?? (attempt && !attempt.ok ? attempt.errorClass : null),
      errorMessage: attempt && !attempt.ok ? attempt.message : null,
      attemptedAt,
      nextAttemptAt: extra.nextAttemptAt ?? null,
      replayId: request.replayId ?? null,
    };
    // Keyed by endpoint: one endpoint's outcomes stay in order for whoever tracks its health.
    return { topic: this.#topics.deliveryOutcome, message: { key: request.endpointId, value: await this.#deps.records.encode("delivery-outcome", outcome) } };
  }

  #send(records: TopicRecord[]): Promise<void> {
    return this.#writer.write(records);
  }

  async #emitTerminalFailure(request: DeliveryRequestRecord, result: Extract<AttemptResult, { ok: false }>, lastAttemptAt: number): Promise<void> {
    await this.#deps.metaEvents.publish({
      // Deterministic: a re-attempt after a crash emits the same event id, which receivers dedupe.
      id: terminalEventId(request.deliveryId),
      type: "webhook.delivery_failed_terminal",
      source: "SYSTEM",
      organizationUuid: request.organizationUuid,
      partnerUuid: request.partnerUuid,
      data: {
        deliveryId: request.deliveryId,
        endpointId: request.endpointId,
        eventId: request.eventId,
        eventType: request.eventType,
        attempts: request.attempt,
        firstAttemptAt: new Date(request.firstAttemptAt ?? lastAttemptAt).toISOString(),
        lastAttemptAt: new Date(lastAttemptAt).toISOString(),
        lastStatusCode: result.statusCode,
        lastError: `${result.errorClass}: ${result.message}`.slice(0, 500),
      },
    });
  }

  async #park(request: DeliveryRequestRecord): Promise<void> {
    this.#deps.metrics.parked.inc();
    const value = await this.#deps.records.encode("delivery-request", request);
    await this.#send([
      { topic: deliveryTopic(this.#deps.naming, request.endpointId), message: { key: request.eventId, value, headers: { [PARKED_HEADER]: "1" } } },
    ]);
  }

  async #deadLetter(message: KafkaMessage, error: Error): Promise<void> {
    const value = await this.#deps.records.encode("dead-letter", deadLetterFor(message, error, "sender", this.#deps.clock.now()));
    await this.#send([{ topic: this.#topics.deadLetter, message: { key: message.key, value } }]);
  }

  #holdPartitionUntil(consumer: KafkaConsumer, message: KafkaMessage, delayMs: number): void {
    const key = `${message.partition}:${message.topic}`;
    this.#deps.logger.debug({ topic: message.topic, partition: message.partition, offset: message.offset, delayMs }, "holding partition until its head is due");
    const selection = [{ topic: message.topic, partitions: [message.partition] }];
    consumer.pause(selection);
    consumer.seek({ topic: message.topic, partition: message.partition, offset: message.offset });
    this.#heldPartitions.get(key)?.();
    this.#heldPartitions.set(
      key,
      this.#deps.clock.schedule(delayMs, () => {
        this.#heldPartitions.delete(key);
        this.#deps.metrics.heldPartitions.set(this.#heldPartitions.size);
        consumer.resume(selection);
      }),
    );
    this.#deps.metrics.heldPartitions.set(this.#heldPartitions.size);
  }

  #releaseBacklog(endpointId: string): void {
    if (!this.#backlogged.has(endpointId)) return;
    if (this.#lanes.backlog(endpointId) > this.#deps.endpointBacklogLimit / 2) return;
    this.#backlogged.delete(endpointId);
    const endpoint = this.#deps.directory.get(endpointId);
    if (endpoint?.status !== "PAUSED") this.#consumers.delivery?.resume([this.#deliveryPartitions(endpointId)]);
  }

  #onEndpointChange(endpointId: string, previous: EndpointConfig | null, current: EndpointConfig | null): void {
    const wasPaused = previous?.status === "PAUSED";
    const isPaused = current?.status === "PAUSED";
    if (isPaused && !wasPaused) this.#holdEndpoint(endpointId);
    if (!isPaused && wasPaused) {
      // Resumed, disabled or deleted: the held records run and find out which.
      this.#lanes.release(endpointId);
      if (!this.#backlogged.has(endpointId)) this.#consumers.delivery?.resume([this.#deliveryPartitions(endpointId)]);
      this.#deps.logger.info({ endpointId }, "endpoint resumed: delivering held deliveries");
    }
    if (previous === null && current !== null) this.#refreshSubscriptionSoon();
  }

  #holdEndpoint(endpointId: string): void {
    this.#lanes.hold(endpointId);
    this.#consumers.delivery?.pause([this.#deliveryPartitions(endpointId)]);
    this.#deps.logger.info({ endpointId }, "endpoint paused: holding its deliveries");
  }

  #deliveryPartitions(endpointId: string) {
    return {
      topic: deliveryTopic(this.#deps.naming, endpointId),
      partitions: Array.from({ length: this.#deps.deliveryTopicPartitions }, (_, index) => index),
    };
  }

  /** A new endpoint's topic is picked up now rather than at the next periodic refresh. */
  #refreshSubscriptionSoon(): void {
    if (this.#refreshPending) return;
    this.#refreshPending = true;
    setTimeout(() => {
      this.#refreshPending = false;
      this.#consumers.delivery?.refreshSubscription().catch((error: unknown) => {
        this.#deps.logger.warn({ err: error }, "could not refresh the delivery topic subscription");
      });
    }, 200).unref();
  }

  #forgetRevoked(source: Source, assignment: TopicPartitions[]): void {
    const assigned = new Set(assignment.flatMap(({ topic, partitions }) => (partitions ?? []).map((partition) => `${partition}:${topic}`)));
    this.#trackers[source].retainOnly(assigned);
  }

  async #commit(): Promise<void> {
    for (const source of ["delivery", "retry"] as const) {
      const consumer = this.#consumers[source];
      const tracker = this.#trackers[source];
      const offsets = tracker.committable();
      if (!consumer || offsets.length === 0) continue;
      try {
        await consumer.commit(offsets);
        tracker.markCommitted(offsets);
      } catch (error) {
        // A rebalance took the partition away: the new owner reads from the last commit.
        this.#deps.logger.warn({ err: error, source }, "offset commit failed");
      }
    }
  }

  /**
   * Kafka writes that must happen before a record counts as done. The producer already retries;
   * past that, keep trying (a broker outage) rather than lose the outcome or the retry.
   */
  async #durably(write: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await write();
        return;
      } catch (error) {
        const delayMs = Math.min(30_000, 500 * 2 ** Math.min(attempt, 6));
        this.#deps.logger.error({ err: error, attempt, delayMs }, "writing to Kafka failed; trying again");
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }
}

/** The id of the terminal-failure meta event of a delivery: `evt_` + 24 hex of its hash. */
function terminalEventId(deliveryId: string): string {
  return `evt_${createHash("sha256").update(`terminal:${deliveryId}`).digest("hex").slice(0, 24)}`;
}
