import type { Logger } from "pino";
import {
  deliveryId as liveDeliveryId,
  deliveryTopic,
  matchesEventType,
  matchSubscription,
  SchemaVersionUnavailableError,
  topicNames,
  type EventEnvelope,
  type TopicNaming,
} from "@novatrade/domain";
import type { EndpointConfig } from "@novatrade/endpoint-config";
import type { DecodedEvent, DeliveryRequestRecord, EventCodec, RecordCodec } from "@novatrade/event-codec";
import { offsetRangeByTime, rangeSize, readTopicRanges, type KafkaClient, type KafkaMessage, type KafkaProducer, type PartitionRange } from "@novatrade/kafka";
import type { HistoryStore } from "./history-store.js";
import type { AdminMetrics } from "./metrics.js";
import { deliveryHeaders, deliveryRequestFor, replayedRequest } from "./replay-record.js";
import type { ReplayJob, ReplayJobStore } from "./replay-job-store.js";
import { signalWork } from "./work-signal.js";

export interface ReplayRunnerDeps {
  kafka: KafkaClient;
  producer: Pick<KafkaProducer, "send">;
  records: RecordCodec;
  codec: EventCodec;
  jobs: ReplayJobStore;
  history: HistoryStore;
  naming: TopicNaming;
  /** The endpoint's current configuration (null once deleted). */
  endpoint: (endpointId: string) => EndpointConfig | undefined;
  /** Delays between attempts of re-queued deliveries, in milliseconds. */
  retrySchedule: readonly number[];
  /** Progress is saved every this many records. */
  checkpointRecords: number;
  logger: Logger;
  metrics: AdminMetrics;
  /** Epoch milliseconds. */
  now: () => number;
}

/** Why a job could not run; the job is marked failed with this message. */
class ReplayFailure extends Error {}

/**
 * Runs replay jobs one at a time, in the order they were made. A job that was running when an
 * admin stopped is resumed from its last saved progress by the next admin (re-writing at most
 * the records after the checkpoint: the replayed delivery ids are derived from the job, so
 * those duplicates are the same deliveries, and receivers dedupe on the event id anyway).
 */
export class ReplayRunner {
  #queue: Promise<void> = Promise.resolve();
  #stopping = false;
  readonly #pending = new Set<string>();

  constructor(private readonly deps: ReplayRunnerDeps) {}

  /** Queues the unfinished jobs of a previous admin process. */
  async resumeUnfinished(): Promise<number> {
    const jobs = await this.deps.jobs.unfinished();
    for (const job of jobs) {
      this.deps.logger.info({ jobId: job.jobId, state: job.state, scanned: job.scanned }, "resuming replay job");
      this.enqueue(job);
    }
    return jobs.length;
  }

  enqueue(job: ReplayJob): void {
    this.#pending.add(job.jobId);
    this.#queue = this.#queue.then(() => this.#run(job)).finally(() => this.#pending.delete(job.jobId));
  }

  /** Resolves once the job in progress has saved its progress; the rest stay queued in PostgreSQL. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#queue.catch(() => undefined);
  }

  async #run(queued: ReplayJob): Promise<void> {
    if (this.#stopping) return;
    // Several admins may resume the same job at start: the one holding the job's lock runs it,
    // and reads it again first, so a job another admin finished meanwhile is not run twice.
    const claimed = await this.deps.jobs.withClaim(queued.jobId, async (job) => {
      if (job.state !== "queued" && job.state !== "running") return;
      await this.#runClaimed(job);
    });
    if (!claimed) this.deps.logger.info({ jobId: queued.jobId }, "replay job is being run by another admin");
  }

  async #runClaimed(job: ReplayJob): Promise<void> {
    const logger = this.deps.logger.child({ jobId: job.jobId, kind: job.kind, endpointId: job.endpointId });
    try {
      const endpoint = this.deps.endpoint(job.endpointId);
      if (!endpoint) throw new ReplayFailure(`endpoint ${job.endpointId} no longer exists`);
      if (job.params.kind === "delivery") await this.#replayOne(job, endpoint, job.params.deliveryId);
      else await this.#replayRange(job, endpoint);
      if (this.#stopping) return; // resumed by the next admin from the checkpoint
      this.deps.metrics.replayJobs.inc({ kind: job.kind, state: "succeeded" });
      logger.info("replay job done");
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      logger.error({ err: error }, "replay job failed");
      this.deps.metrics.replayJobs.inc({ kind: job.kind, state: "failed" });
      await this.deps.jobs.finish(job.jobId, { state: "failed", error: message }).catch((saveError: unknown) => {
        logger.error({ err: saveError }, "could not mark the replay job failed; the next admin resumes it");
      });
    }
  }


  /** One delivery, now: the event from the history, rendered for the endpoint as it is today. */
  async #replayOne(job: ReplayJob, endpoint: EndpointConfig, deliveryId: string): Promise<void> {
    await this.deps.jobs.start(job.jobId, [], 1);
    const delivery = await this.deps.history.delivery(job.organizationUuid, deliveryId);
    if (!delivery) throw new ReplayFailure(`delivery ${deliveryId} is not in the history`);
    const envelope = await this.deps.history.eventEnvelope(job.organizationUuid, delivery.eventId);
    if (!envelope) throw new ReplayFailure(`event ${delivery.eventId} of delivery ${deliveryId} is no longer in the history`);
    const decoded = await this.deps.codec.decode(await this.deps.codec.encode(envelope as unknown as EventEnvelope));
    const request = this.#fromEvent(decoded, endpoint);
    if (!request) throw new ReplayFailure(`event ${delivery.eventId} cannot be rendered in a version the endpoint accepts`);
    await this.#send(endpoint.endpointId, [replayedRequest(request, this.#stamp(job))]);
    await this.deps.jobs.finish(job.jobId, { state: "succeeded", scanned: 1, requeued: 1 });
  }

  /** A time range of the endpoint's delivery topic, or a backfill from the domain topic. */
  async #replayRange(job: ReplayJob, endpoint: EndpointConfig): Promise<void> {
    const params = job.params;
    const backfill = params.kind === "backfill";
    const topic = backfill ? topicNames(this.deps.naming).domain : deliveryTopic(this.deps.naming, endpoint.endpointId);
    let ranges = job.ranges;
    if (!ranges || ranges.length === 0 || job.state === "queued") {
      ranges =
        params.kind === "backfill"
          ? await offsetRangeByTime(this.deps.kafka, topic, params.since, null)
          : params.kind === "range"
            ? await offsetRangeByTime(this.deps.kafka, topic, params.from, params.to)
            : [];
      await this.deps.jobs.start(job.jobId, ranges, rangeSize(ranges));
    }
    const checkpoint: Record<string, string> = { ...(job.checkpoint ?? {}) };
    const remaining: PartitionRange[] = ranges.map((range) => ({ ...range, start: checkpoint[range.partition] ?? range.start }));
    const failedOnly = params.kind === "range" && params.failedOnly ? await this.deps.history.failedDeliveryIds(endpoint.endpointId, params.from, params.to) : null;
    let scanned = job.scanned;
    let requeued = job.requeued;
    let sinceSave = 0;
    const stamp = this.#stamp(job);

    const select = async (message: KafkaMessage): Promise<DeliveryRequestRecord | null> => {
      if (message.value === null) return null;
      if (params.kind === "backfill") {
        if (message.timestamp < params.since) return null;
        let decoded: DecodedEvent;
        try {
          decoded = await this.deps.codec.decode(message.value);
        } catch {
          return null; // the router dead-lettered it: nothing to deliver
        }
        return this.#fromEvent(decoded, endpoint);
      }
      if (params.kind !== "range" || message.timestamp < params.from || message.timestamp >= params.to) return null;
      const original = await this.deps.records.decode("delivery-request", message.value);
      // Replays and test events are not deliveries of the range: replaying them again would
      // multiply one replay into many.
      if (original.replayId) return null;
      if (params.eventTypes && !matchesEventType(params.eventTypes, original.eventType)) return null;
      if (failedOnly && !failedOnly.has(original.deliveryId)) return null;
      return original;
    };

    await readTopicRanges(this.deps.kafka, topic, remaining, {
      groupPrefix: `${this.deps.naming.prefix}admin-replay.${job.jobId}.`,
      isCancelled: () => this.#stopping,
      onRecords: async (messages) => {
        const selected: DeliveryRequestRecord[] = [];
        for (const message of messages) {
          const original = await select(message);
          if (original) selected.push(replayedRequest(original, stamp));
        }
        if (selected.length > 0) await this.#send(endpoint.endpointId, selected);
        scanned += messages.length;
        requeued += selected.length;
        sinceSave += messages.length;
        this.deps.metrics.replayRequeued.inc({ kind: job.kind }, selected.length);
        checkpoint[messages[0]!.partition] = String(BigInt(messages[messages.length - 1]!.offset) + 1n);
        if (sinceSave >= this.deps.checkpointRecords) {
          sinceSave = 0;
          await this.deps.jobs.progress(job.jobId, { scanned, requeued, checkpoint });
        }
      },
    });
    if (this.#stopping) {
      await this.deps.jobs.progress(job.jobId, { scanned, requeued, checkpoint });
      return;
    }
    await this.deps.jobs.finish(job.jobId, { state: "succeeded", scanned, requeued, checkpoint });
  }

  /** The delivery request the router would have written for this event and endpoint; null when none. */
  #fromEvent(decoded: DecodedEvent, endpoint: EndpointConfig): DeliveryRequestRecord | null {
    const { envelope } = decoded;
    if (!matchSubscription({ ...endpoint, status: "ACTIVE" }, envelope).matched) return null;
    let rendered;
    try {
      rendered = this.deps.codec.render(decoded, endpoint.acceptedSchemaVersions);
    } catch (error) {
      if (error instanceof SchemaVersionUnavailableError) return null;
      throw error;
    }
    return deliveryRequestFor(
      envelope,
      rendered,
      { endpointId: endpoint.endpointId, deliveryId: liveDeliveryId(envelope.id, endpoint.endpointId), replayId: null },
      { now: this.deps.now(), retrySchedule: this.deps.retrySchedule },
    );
  }

  #stamp(job: ReplayJob) {
    return { replayId: job.jobId, now: this.deps.now(), retrySchedule: this.deps.retrySchedule };
  }

  async #send(endpointId: string, requests: DeliveryRequestRecord[]): Promise<void> {
    const messages = await Promise.all(
      requests.map(async (request) => ({
        key: request.eventId,
        value: await this.deps.records.encode("delivery-request", request),
        headers: deliveryHeaders(request),
      })),
    );
    const topic = deliveryTopic(this.deps.naming, endpointId);
    await this.deps.producer.send(topic, messages);
    await signalWork(this.deps.producer, this.deps.naming, topic);
  }

  isQueued(jobId: string): boolean {
    return this.#pending.has(jobId);
  }
}
