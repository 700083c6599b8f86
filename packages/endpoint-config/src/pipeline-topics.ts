import { deliveryTopic, retryTiers, retryTopicForDelay, topicNames, type RetrySchedule, type TopicNaming } from "@novatrade/domain";
import type { TopicSpec } from "@novatrade/kafka";

const DAY_MS = 24 * 60 * 60 * 1000;

export interface PipelineTopicOptions {
  naming: TopicNaming;
  /** Partitions of the domain, outcome and dead-letter topics. */
  partitions: number;
  /** Partitions of each endpoint's delivery topic. */
  deliveryTopicPartitions: number;
  /** The retry schedule in use: one retry topic per distinct delay. */
  retrySchedule: RetrySchedule;
}

/**
 * Retention of delivery topics: 30 days of history must stay re-readable for replay, plus a
 * day so a replay of "the last 30 days" started late still finds its first records.
 */
export const DELIVERY_TOPIC_RETENTION_MS = 31 * DAY_MS;
/** Retry topics hold a delivery for at most one delay (20 h by default); keep 4 days. */
export const RETRY_TOPIC_RETENTION_MS = 4 * DAY_MS;
/**
 * Retention of the domain topic: a backfill re-routes an organization's events of the last 30
 * days to a new endpoint, so the domain topic keeps them that long, plus a day.
 */
export const DOMAIN_TOPIC_RETENTION_MS = 31 * DAY_MS;

/** Largest dead-letter record, in bytes (2 MiB: a 1 MiB original and its context). */
export const DEAD_LETTER_MAX_RECORD_BYTES = 2 * 1024 * 1024;

export function deliveryTopicSpec(options: Pick<PipelineTopicOptions, "naming" | "deliveryTopicPartitions">, endpointId: string): TopicSpec {
  return {
    topic: deliveryTopic(options.naming, endpointId),
    partitions: options.deliveryTopicPartitions,
    config: { "retention.ms": String(DELIVERY_TOPIC_RETENTION_MS), "cleanup.policy": "delete" },
  };
}

/** Every topic of the pipeline except the per-endpoint delivery topics. */
export function pipelineTopicSpecs(options: PipelineTopicOptions): TopicSpec[] {
  const names = topicNames(options.naming);
  const retention = (days: number) => ({ "retention.ms": String(days * DAY_MS) });
  return [
    { topic: names.domain, partitions: options.partitions, config: { "retention.ms": String(DOMAIN_TOPIC_RETENTION_MS) } },
    // Compacted: the latest record per endpoint is its whole configuration, forever.
    { topic: names.endpointConfig, partitions: 1, config: { "cleanup.policy": "compact", "min.compaction.lag.ms": "0" } },
    { topic: names.deliveryOutcome, partitions: options.partitions, config: retention(31) },
    // A dead letter keeps the original record whole: a domain record near the broker's 1 MiB
    // limit plus the dead letter's own fields must still fit.
    { topic: names.deadLetter, partitions: options.partitions, config: { ...retention(31), "max.message.bytes": String(DEAD_LETTER_MAX_RECORD_BYTES) } },
    // One partition: every sender reads every signal. A signal is useful for a second; an hour is plenty.
    { topic: names.workSignals, partitions: 1, config: { "retention.ms": String(60 * 60 * 1000) } },
    ...retryTiers(options.retrySchedule).map((delayMs) => retryTopicSpec(options.naming, delayMs, options.partitions)),
  ];
}

/** The topic of one retry delay; kept at least four days and at least twice its delay. */
export function retryTopicSpec(naming: TopicNaming, delayMs: number, partitions: number): TopicSpec {
  return {
    topic: retryTopicForDelay(naming, delayMs),
    partitions,
    config: { "retention.ms": String(Math.max(RETRY_TOPIC_RETENTION_MS, 2 * delayMs)) },
  };
}
