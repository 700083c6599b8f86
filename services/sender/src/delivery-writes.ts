import { createHash } from "node:crypto";
import type { Logger } from "pino";
import { deliveryTopic, NovatradeError, topicNames, ValidationError, type TopicNaming } from "@novatrade/domain";
import { deadLetterFor, type DeliveryRequestRecord, type RecordCodec } from "@novatrade/event-codec";
import type { KafkaMessage } from "@novatrade/kafka";
import type { EventProducer } from "@novatrade/producer";
import type { AttemptRecords } from "./attempt-records.js";
import type { BatchingWriter, TopicRecord } from "./batching-writer.js";
import type { Clock } from "./clock.js";
import type { SenderMetrics } from "./metrics.js";

/** Header on a delivery request moved back to its endpoint's topic (parked). */
export const PARKED_HEADER = "novatrade-parked";

export interface DeliveryWritesDeps {
  writer: BatchingWriter;
  records: RecordCodec;
  /** Emits meta events (terminal failures) to the domain topic. */
  metaEvents: EventProducer;
  naming: TopicNaming;
  /** Makes sure a retry topic exists before a retry is written to it (delays of older schedules). */
  ensureRetryTopic: (topic: string, delayMs: number) => Promise<void>;
  clock: Clock;
  metrics: SenderMetrics;
  logger: Logger;
}

/**
 * Everything the sender writes to Kafka for a record it took: an attempt's records, a parked
 * request, a dead letter. Each resolves only once written: encoding and writing are retried
 * through outages (registry or broker down), so a record never ends "in progress" with its
 * offset stuck. Only what can never succeed gives up, and then nothing is lost either.
 */
export class DeliveryWrites {
  readonly #topics;

  constructor(private readonly deps: DeliveryWritesDeps) {
    this.#topics = topicNames(deps.naming);
  }

  /**
   * Encodes and writes an attempt's records, retrying until written. Only a record that can never
   * encode (a bug, not an outage) gives up: the request is then dead-lettered, bytes untouched.
   */
  async attemptRecords(message: KafkaMessage, request: DeliveryRequestRecord, records: AttemptRecords): Promise<void> {
    let encoded: TopicRecord[];
    try {
      encoded = await this.retrying("encoding a delivery's records", () => this.#encode(records), (error) => error instanceof ValidationError);
    } catch (error) {
      await this.deadLetter(message, error as Error);
      return;
    }
    const { retry } = records;
    if (retry) await this.retrying("creating a retry topic", () => this.deps.ensureRetryTopic(retry.topic, retry.delayMs));
    await this.retrying("writing a delivery's records", () => this.deps.writer.write(encoded));
    if (records.terminalEvent) {
      const outcome = records.outcome;
      await this.retrying(
        "emitting a terminal-failure event",
        () => this.#emitTerminalFailure(request, outcome),
        (error) => error instanceof NovatradeError && !error.retriable,
      ).catch((error: unknown) => this.deps.logger.error({ err: error, deliveryId: outcome.deliveryId }, "terminal-failure event cannot be built; not emitted"));
    }
  }

  async #encode(records: AttemptRecords): Promise<TopicRecord[]> {
    const encoded: TopicRecord[] = [];
    const { retry } = records;
    if (retry) encoded.push({ topic: retry.topic, message: { key: retry.request.eventId, value: await this.deps.records.encode("delivery-request", retry.request) } });
    // Keyed by endpoint: one endpoint's outcomes stay in order for whoever tracks its health.
    encoded.push({ topic: this.#topics.deliveryOutcome, message: { key: records.outcome.endpointId, value: await this.deps.records.encode("delivery-outcome", records.outcome) } });
    return encoded;
  }

  async #emitTerminalFailure(request: DeliveryRequestRecord, outcome: AttemptRecords["outcome"]): Promise<void> {
    await this.deps.metaEvents.publish({
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
        firstAttemptAt: new Date(request.firstAttemptAt ?? outcome.attemptedAt).toISOString(),
        lastAttemptAt: new Date(outcome.attemptedAt).toISOString(),
        lastStatusCode: outcome.statusCode,
        lastError: `${outcome.errorClass}: ${outcome.errorMessage}`.slice(0, 500),
      },
    });
  }

  async park(request: DeliveryRequestRecord): Promise<void> {
    this.deps.metrics.parked.inc();
    const value = await this.retrying("encoding a parked delivery", () => this.deps.records.encode("delivery-request", request));
    await this.retrying("parking a delivery", () =>
      this.deps.writer.write([{ topic: deliveryTopic(this.deps.naming, request.endpointId), message: { key: request.eventId, value, headers: { [PARKED_HEADER]: "1" } } }]),
    );
  }

  async deadLetter(message: KafkaMessage, error: Error): Promise<void> {
    this.deps.metrics.deadLettered.inc({ error_class: error.name });
    const value = await this.retrying("encoding a dead letter", () => this.deps.records.encode("dead-letter", deadLetterFor(message, error, "sender", this.deps.clock.now())));
    await this.retrying("writing a dead letter", () => this.deps.writer.write([{ topic: this.#topics.deadLetter, message: { key: message.key, value } }]));
  }

  /**
   * Work that must happen before a record counts as done. The producer and the registry client
   * already retry; past that, keep trying (an outage) rather than lose the outcome or the retry.
   * `giveUp` says which errors can never succeed (they are thrown).
   */
  async retrying<T>(what: string, work: () => Promise<T>, giveUp: (error: unknown) => boolean = () => false): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (giveUp(error)) throw error;
        const delayMs = Math.min(30_000, 250 * 2 ** Math.min(attempt, 7));
        this.deps.logger.error({ err: error, attempt, delayMs }, `${what} failed; trying again`);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }
}

/** The id of the terminal-failure meta event of a delivery: `evt_` + 24 hex of its hash. */
function terminalEventId(deliveryId: string): string {
  return `evt_${createHash("sha256").update(`terminal:${deliveryId}`).digest("hex").slice(0, 24)}`;
}
