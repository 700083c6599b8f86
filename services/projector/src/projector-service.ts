import type { Logger } from "pino";
import { DecodeError, NovatradeError, ValidationError, type EventEnvelope, type FixedTopicNames } from "@novatrade/domain";
import { deadLetterFor, type EventCodec, type RecordCodec } from "@novatrade/event-codec";
import { consumerProbe, nextOffset, type BatchContext, type KafkaBatch, type KafkaClient, type KafkaConsumer, type KafkaMessage, type KafkaProducer } from "@novatrade/kafka";
import type { DatabaseGate } from "./database-gate.js";
import type { EndpointChange } from "./endpoint-projection.js";
import type { ProjectorMetrics } from "./metrics.js";
import type { PositionedOutcome } from "./outcome-projection.js";

/** What the service does with decoded records; each call is one database transaction. */
export interface ProjectionSink {
  outcomes(batch: PositionedOutcome[]): Promise<{ projected: number; expired: number; autoPaused: unknown[] }>;
  endpoints(changes: EndpointChange[]): Promise<number>;
  events(envelopes: EventEnvelope[]): Promise<{ projected: number; expired: number }>;
  /** After a committed batch that decided pauses: carry them out. */
  afterAutoPause(): Promise<void>;
}

export interface ProjectorServiceDeps {
  kafka: KafkaClient;
  producer: KafkaProducer;
  records: RecordCodec;
  codec: EventCodec;
  topics: FixedTopicNames;
  groupId: string;
  sessionTimeoutMs: number;
  partitionsConcurrently: number;
  sink: ProjectionSink;
  gate: DatabaseGate;
  metrics: ProjectorMetrics;
  logger: Logger;
  now: () => number;
}

type Input = "outcomes" | "endpoints" | "events";

/** A record that can never be projected: dead-lettered with the reason, never retried. */
/** Projector lag: now minus the newest record timestamp of a projected batch (0 if none, never negative). */
export function projectionLagSeconds(messages: readonly { timestamp: number }[], nowMs: number): number | null {
  let newest = -Infinity;
  for (const m of messages) if (Number.isFinite(m.timestamp) && m.timestamp > newest) newest = m.timestamp;
  if (newest === -Infinity) return null;
  return Math.max(0, (nowMs - newest) / 1000);
}

function isPoison(error: unknown): boolean {
  return (error instanceof DecodeError || error instanceof ValidationError) && !(error as NovatradeError).retriable;
}

function requireText(field: string, value: string): void {
  if (value.length === 0) throw new ValidationError(field, "must not be empty");
}

/**
 * The projector's consumer: one group over the outcomes, endpoint-configuration and domain
 * topics. Per batch: decode (bad records go to the dead-letter topic with the reason), write
 * in one transaction, and only then commit the offsets. While PostgreSQL is unreachable the
 * batch is retried with back-off (the partition waits, heartbeating) and the service reports
 * not ready; nothing is committed, so nothing is lost, and upserts make the retry harmless.
 */
export class ProjectorService {
  readonly #deps: ProjectorServiceDeps;
  #consumer: KafkaConsumer | null = null;

  constructor(deps: ProjectorServiceDeps) {
    this.#deps = deps;
  }

  async start(): Promise<void> {
    const { kafka, topics, groupId, logger } = this.#deps;
    const consumer = kafka.createConsumer({
      groupId,
      topics: [topics.deliveryOutcome, topics.endpointConfig, topics.domain],
      fromBeginning: true,
      sessionTimeoutMs: this.#deps.sessionTimeoutMs,
    });
    this.#consumer = consumer;
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: this.#deps.partitionsConcurrently,
      eachBatch: async (batch, context) => {
        if (batch.messages.length === 0) return;
        await this.#handle(batch, context);
        const last = batch.messages[batch.messages.length - 1]!.offset;
        // Only now, with the transaction committed, does the batch count as projected.
        await consumer.commit([{ topic: batch.topic, partition: batch.partition, offset: nextOffset(last) }]);
        await context.heartbeat();
      },
      onHandlerError: (error, context) => {
        logger.error({ err: error, ...context }, "projecting a batch failed; it will be retried");
        return "rethrow";
      },
    });
  }

  async stop(): Promise<void> {
    await this.#consumer?.disconnect();
    this.#consumer = null;
  }

  /** Ready: the consumer runs and PostgreSQL answers. */
  isReady(): boolean {
    return consumerProbe(this.#consumer?.status()).ready && this.#deps.gate.isAvailable();
  }

  /** Live: its consumer has not crashed or stopped for good (PostgreSQL being away is not a reason to restart). */
  isLive(): boolean {
    return consumerProbe(this.#consumer?.status()).live;
  }

  #inputOf(topic: string): Input {
    const { topics } = this.#deps;
    if (topic === topics.deliveryOutcome) return "outcomes";
    if (topic === topics.endpointConfig) return "endpoints";
    return "events";
  }

  async #handle(batch: KafkaBatch, context: BatchContext): Promise<void> {
    const input = this.#inputOf(batch.topic);
    const { sink, gate, metrics } = this.#deps;
    const decoded: { message: KafkaMessage; value: unknown }[] = [];
    const poison: { message: KafkaMessage; error: Error }[] = [];
    for (const message of batch.messages) {
      try {
        decoded.push({ message, value: await this.#decode(input, message) });
      } catch (error) {
        if (!isPoison(error)) throw error; // registry unreachable and the like: retried
        poison.push({ message, error: error as Error });
      }
    }
    if (poison.length > 0) await this.#deadLetter(input, poison);
    const keepGoing = async () => {
      if (!context.isRunning()) throw new NovatradeError("consumer stopping: batch left for the next owner", { retriable: true });
      await context.heartbeat();
    };
    const timer = metrics.batchSeconds.startTimer({ input });
    if (input === "outcomes") {
      const items = decoded.map(({ message, value }) => ({ outcome: value as PositionedOutcome["outcome"], partition: message.partition, offset: Number(message.offset) }));
      const result = await gate.run("project outcomes", () => sink.outcomes(items), keepGoing);
      metrics.records.inc({ input, outcome: "projected" }, result.projected);
      if (result.expired > 0) metrics.records.inc({ input, outcome: "expired" }, result.expired);
      const lag = projectionLagSeconds(decoded.map(({ message }) => message), this.#deps.now());
      if (lag !== null) metrics.lagSeconds.set(lag);
      if (result.autoPaused.length > 0) await gate.run("carry out auto-pauses", () => sink.afterAutoPause(), keepGoing);
    } else if (input === "endpoints") {
      const changes = decoded.map(({ value }) => value as EndpointChange);
      await gate.run("project endpoints", () => sink.endpoints(changes), keepGoing);
      metrics.records.inc({ input, outcome: "projected" }, changes.length);
    } else {
      const envelopes = decoded.map(({ value }) => value as EventEnvelope);
      const result = await gate.run("project events", () => sink.events(envelopes), keepGoing);
      metrics.records.inc({ input, outcome: "projected" }, result.projected);
      if (result.expired > 0) metrics.records.inc({ input, outcome: "expired" }, result.expired);
    }
    timer();
  }

  async #decode(input: Input, message: KafkaMessage): Promise<unknown> {
    const { records, codec } = this.#deps;
    if (input === "endpoints") {
      const endpointId = message.key?.toString("utf8") ?? "";
      requireText("key", endpointId);
      if (message.value === null) return { endpointId, config: null } satisfies EndpointChange;
      const config = await records.decode("endpoint-config", message.value);
      if (config.endpointId !== endpointId) throw new ValidationError("endpointId", `record of ${config.endpointId} under key ${endpointId}`);
      return { endpointId, config } satisfies EndpointChange;
    }
    if (message.value === null) throw new ValidationError("value", "a tombstone is not a record of this topic");
    if (input === "outcomes") {
      const outcome = await records.decode("delivery-outcome", message.value);
      for (const field of ["deliveryId", "eventId", "endpointId", "organizationUuid"] as const) requireText(field, outcome[field]);
      if (outcome.attempt < 0) throw new ValidationError("attempt", `must not be negative, got ${outcome.attempt}`);
      if (outcome.result !== "SKIPPED" && outcome.attempt < 1) throw new ValidationError("attempt", `an attempted delivery's attempt is 1-based, got ${outcome.attempt}`);
      return outcome;
    }
    return (await codec.decode(message.value)).envelope;
  }

  async #deadLetter(input: Input, poison: { message: KafkaMessage; error: Error }[]): Promise<void> {
    const { records, producer, topics, metrics, logger, now } = this.#deps;
    const messages = await Promise.all(
      poison.map(async ({ message, error }) => ({ key: message.key, value: await records.encode("dead-letter", deadLetterFor(message, error, "projector", now())) })),
    );
    await producer.send(topics.deadLetter, messages);
    metrics.records.inc({ input, outcome: "dead_lettered" }, poison.length);
    for (const { message, error } of poison) {
      logger.warn({ topic: message.topic, partition: message.partition, offset: message.offset, reason: error.message, errorClass: error.name }, "record dead-lettered");
    }
  }
}
