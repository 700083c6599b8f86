import { createHash } from "node:crypto";
import { ValidationError } from "./errors.js";
import { formatDelay, retryTiers, type RetrySchedule } from "./retry-schedule.js";

/**
 * THE mapping from concepts to Kafka topic names (SPEC §5). One delivery topic per endpoint is
 * the design's known scaling risk; every service gets topic names from here and nowhere else,
 * so the mapping (e.g. to hashed buckets of endpoints) can change in this one file.
 *
 * Names under the prefix use `.` and `-` as separators, never `_`, because Kafka treats `.` and
 * `_` as the same character in metric names and refuses topics that collide that way.
 */
export interface TopicNaming {
  /** Prepended to every topic this dispatcher owns, e.g. `novatrade.webhooks.` (may be empty). */
  prefix: string;
  /**
   * The domain topic. Upstream producers own it, so its name may lie outside the prefix;
   * default `<prefix>events`.
   */
  domainTopic?: string;
}

export const DEFAULT_TOPIC_NAMING: TopicNaming = Object.freeze({ prefix: "novatrade.webhooks." });

/** Kafka's limit on a topic name, in characters. */
export const MAX_TOPIC_NAME_LENGTH = 249;
/** Longest prefix accepted, leaving room for an endpoint id in delivery topic names. */
export const MAX_TOPIC_PREFIX_LENGTH = 150;

const LEGAL_TOPIC = /^[a-zA-Z0-9._-]+$/;
/** Characters kept as they are in an endpoint id; everything else (including `.`) is replaced. */
const PLAIN_ENDPOINT_ID = /^[a-zA-Z0-9_-]+$/;
const HASH_CHARS = 12;

export function isLegalTopicName(name: string): boolean {
  return LEGAL_TOPIC.test(name) && name.length <= MAX_TOPIC_NAME_LENGTH && name !== "." && name !== "..";
}

/**
 * @throws ValidationError naming `prefix` or `domainTopic` when the name cannot be a Kafka topic.
 */
export function validateTopicNaming(naming: TopicNaming): TopicNaming {
  if (naming.prefix !== "" && !LEGAL_TOPIC.test(naming.prefix)) {
    throw new ValidationError("prefix", "may contain only letters, digits, '.', '_' and '-'");
  }
  if (naming.prefix.length > MAX_TOPIC_PREFIX_LENGTH) {
    throw new ValidationError("prefix", `must be at most ${MAX_TOPIC_PREFIX_LENGTH} characters`);
  }
  if (naming.domainTopic !== undefined && !isLegalTopicName(naming.domainTopic)) {
    throw new ValidationError("domainTopic", `must be 1 to ${MAX_TOPIC_NAME_LENGTH} of letters, digits, '.', '_' and '-'`);
  }
  return naming;
}

/** The topics whose names do not depend on an endpoint or a tier. */
export interface FixedTopicNames {
  /** Domain events in: written by upstream producers and by the dispatcher's meta events. */
  domain: string;
  /** Compacted, keyed by endpoint id: the endpoint configuration the router and senders follow. */
  endpointConfig: string;
  /** Attempt and delivery outcomes, read by the projector. */
  deliveryOutcome: string;
  /** Undecodable or invalid input, with the reason. */
  deadLetter: string;
  /**
   * Which delivery topics just got records (a record per routed batch, naming them): wakes the
   * senders at once, so they need not poll every endpoint's end offsets often.
   */
  workSignals: string;
}

export function topicNames(naming: TopicNaming): FixedTopicNames {
  const { prefix } = naming;
  return {
    domain: naming.domainTopic ?? `${prefix}events`,
    endpointConfig: `${prefix}endpoint-config`,
    deliveryOutcome: `${prefix}delivery-outcomes`,
    deadLetter: `${prefix}dead-letter`,
    workSignals: `${prefix}work-signals`,
  };
}

function deliveryTopicStem(naming: TopicNaming): string {
  return `${naming.prefix}delivery.`;
}

/**
 * The delivery topic of an endpoint: `<prefix>delivery.<endpoint id>`. An id with characters
 * outside [a-zA-Z0-9_-], or too long to fit 249 characters, is sanitised (illegal characters →
 * `_`, truncated) and suffixed with `-` and 12 hex digits of its SHA-256, so distinct ids keep
 * distinct topics.
 */
export function deliveryTopic(naming: TopicNaming, endpointId: string): string {
  if (endpointId === "") throw new ValidationError("endpointId", "must not be empty");
  const stem = deliveryTopicStem(naming);
  const room = MAX_TOPIC_NAME_LENGTH - stem.length;
  if (PLAIN_ENDPOINT_ID.test(endpointId) && endpointId.length <= room) return stem + endpointId;
  const suffix = `-${createHash("sha256").update(endpointId, "utf8").digest("hex").slice(0, HASH_CHARS)}`;
  const readable = endpointId.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, room - suffix.length);
  return stem + readable + suffix;
}

/** Matches every delivery topic under this naming, for regex subscriptions. */
export function deliveryTopicPattern(naming: TopicNaming): RegExp {
  return new RegExp(`^${deliveryTopicStem(naming).replace(/\./g, "\\.")}[a-zA-Z0-9_-]+$`);
}

/**
 * The retry topic of one delay: `<prefix>retry.<delay>` (`retry.5s`, `retry.20h`, `retry.150ms`).
 * Named by the delay, not by a position in the schedule, so a schedule change never puts two
 * delays in one topic: a topic held until its head is due then stays in due order.
 */
export function retryTopicForDelay(naming: TopicNaming, delayMs: number): string {
  if (!Number.isSafeInteger(delayMs) || delayMs <= 0) throw new RangeError(`retry delays are positive whole milliseconds, got ${delayMs}`);
  return `${naming.prefix}retry.${formatDelay(delayMs)}`;
}

/** The retry topics of a schedule, one per distinct delay, in order of first appearance. */
export function retryTopicsForSchedule(naming: TopicNaming, schedule: RetrySchedule): string[] {
  return retryTiers(schedule).map((delayMs) => retryTopicForDelay(naming, delayMs));
}

/**
 * Matches every retry topic under this naming: delay-named ones (older schedules' too) and the
 * tier-numbered ones of earlier versions, so what they still hold drains.
 */
export function retryTopicPattern(naming: TopicNaming): RegExp {
  return new RegExp(`^${naming.prefix.replace(/\./g, "\\.")}retry\\.[0-9]+(ms|s|m|h)?$`);
}

/**
 * A bounded label for a topic, for metrics: `domain`, `endpoint_config`, `delivery_outcome`,
 * `dead_letter`, `delivery` (every endpoint's topic: one per endpoint, so never the name),
 * `retry_<delay>` (`retry_5m`: as many as the schedules' delays) or `other`.
 */
export function topicKind(naming: TopicNaming, topic: string): string {
  const fixed = topicNames(naming);
  if (topic === fixed.domain) return "domain";
  if (topic === fixed.endpointConfig) return "endpoint_config";
  if (topic === fixed.deliveryOutcome) return "delivery_outcome";
  if (topic === fixed.deadLetter) return "dead_letter";
  if (deliveryTopicPattern(naming).test(topic)) return "delivery";
  if (retryTopicPattern(naming).test(topic)) return `retry_${topic.slice(naming.prefix.length + "retry.".length)}`;
  return "other";
}
