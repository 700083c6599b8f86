import type { EventEnvelope } from "./envelope.js";
import { isUuid } from "./envelope.js";
import { ValidationError } from "./errors.js";
import { matchesEventType } from "./event-type-pattern.js";

export const ENDPOINT_STATUSES = ["ACTIVE", "PAUSED", "DISABLED"] as const;
export type EndpointStatus = (typeof ENDPOINT_STATUSES)[number];

/** What the router needs to know about an endpoint to decide whether an event is for it. */
export interface EndpointSubscription {
  endpointId: string;
  organizationUuid: string;
  /** Validated patterns (see `validateEventTypePatterns`). */
  eventTypes: readonly string[];
  /** Partner UUIDs this endpoint is limited to; null = every partner, and partner-less events. */
  partnerIds: readonly string[] | null;
  /** Schema versions of `data` the endpoint can read; used by the codec, not by matching. */
  acceptedSchemaVersions: readonly number[];
  status: EndpointStatus;
  /** A tombstoned endpoint (deleted in the admin service, compacted away later). */
  deleted?: boolean;
}

/** The envelope fields matching looks at (`data` only for the meta event about an endpoint). */
export type MatchableEvent = Pick<EventEnvelope, "type" | "source" | "organizationUuid" | "partnerUuid"> & { data?: unknown };

/** The meta event announcing that an endpoint was paused; never delivered to that endpoint. */
const AUTO_PAUSED_TYPE = "webhook.endpoint_auto_paused";

/**
 * Why an endpoint does not get an event, in the order the rules are checked:
 * - `other_organization`: tenancy; checked first so nothing else about a foreign endpoint leaks
 *   into decisions or metrics;
 * - `disabled`: the endpoint is DISABLED or deleted;
 * - `api_source`: echo suppression, the API caller already knows what it did;
 * - `type`: no subscribed pattern matches the event type;
 * - `partner`: the endpoint is limited to partners and the event is not for one of them;
 * - `subject_endpoint`: the event says this very endpoint was auto-paused. It would only wait
 *   behind the pause it announces; the organization's other `webhook.*` endpoints get it.
 */
export type NoMatchReason = "other_organization" | "disabled" | "api_source" | "type" | "partner" | "subject_endpoint";

export type SubscriptionMatch =
  | {
      matched: true;
      /**
       * The endpoint is PAUSED: the delivery is still written (and kept) but held by the sender
       * until the endpoint is resumed. Pausing never drops events.
       */
      held: boolean;
    }
  | { matched: false; reason: NoMatchReason };

const sameUuid = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/**
 * Decides whether one endpoint gets one event (SPEC §3).
 *
 * Partner rule: `partnerIds: null` receives every partner's events and events with no partner.
 * A partner-limited endpoint receives only events whose `partnerUuid` is in its list, so an event
 * with `partnerUuid: null` (an organization-level event) goes only to endpoints with
 * `partnerIds: null`; a dealer-scoped integration never sees organization-wide events.
 *
 * Schema versions are not a matching criterion: when no accepted version can be produced the
 * delivery must be recorded as skipped, never silently dropped, so that is the codec's call.
 */
export function matchSubscription(endpoint: EndpointSubscription, event: MatchableEvent): SubscriptionMatch {
  if (!sameUuid(endpoint.organizationUuid, event.organizationUuid)) return { matched: false, reason: "other_organization" };
  if (endpoint.deleted === true || endpoint.status === "DISABLED") return { matched: false, reason: "disabled" };
  if (event.source === "API") return { matched: false, reason: "api_source" };
  if (!matchesEventType(endpoint.eventTypes, event.type)) return { matched: false, reason: "type" };
  if (endpoint.partnerIds !== null) {
    const partner = event.partnerUuid;
    if (partner === null || !endpoint.partnerIds.some((id) => sameUuid(id, partner))) {
      return { matched: false, reason: "partner" };
    }
  }
  if (event.type === AUTO_PAUSED_TYPE && subjectEndpointId(event.data) === endpoint.endpointId) return { matched: false, reason: "subject_endpoint" };
  return { matched: true, held: endpoint.status === "PAUSED" };
}

function subjectEndpointId(data: unknown): string | null {
  if (typeof data !== "object" || data === null) return null;
  const id = (data as { endpointId?: unknown }).endpointId;
  return typeof id === "string" ? id : null;
}

/** The endpoints, in the given order, that get the event (PAUSED ones included: they hold). */
export function selectMatchingEndpoints<E extends EndpointSubscription>(endpoints: Iterable<E>, event: MatchableEvent): E[] {
  const selected: E[] = [];
  for (const endpoint of endpoints) {
    if (matchSubscription(endpoint, event).matched) selected.push(endpoint);
  }
  return selected;
}

/**
 * The versions to try rendering an event in, best first: the accepted versions that are
 * available (e.g. registered for the event type), deduplicated, highest first. An empty result
 * means the delivery is to be recorded as skipped.
 */
export function negotiateVersions(accepted: readonly number[], available: readonly number[]): number[] {
  const availableSet = new Set(available);
  return [...new Set(accepted)].filter((v) => Number.isInteger(v) && v >= 1 && availableSet.has(v)).sort((a, b) => b - a);
}

/**
 * Validates `partnerIds` of an endpoint registration: null (all partners) or a non-empty list of
 * distinct UUIDs. An empty list is rejected because it would silently receive nothing.
 * @throws ValidationError naming `partnerIds` or `partnerIds[i]`.
 */
export function validatePartnerIds(input: unknown, field = "partnerIds"): string[] | null {
  if (input === null) return null;
  if (!Array.isArray(input)) throw new ValidationError(field, "must be null (all partners) or an array of partner UUIDs");
  if (input.length === 0) throw new ValidationError(field, "must not be empty; use null to receive events of all partners");
  const seen = new Map<string, number>();
  input.forEach((id, i) => {
    if (!isUuid(id)) throw new ValidationError(`${field}[${i}]`, "must be a UUID");
    const key = id.toLowerCase();
    const earlier = seen.get(key);
    if (earlier !== undefined) throw new ValidationError(`${field}[${i}]`, `duplicates ${field}[${earlier}]`);
    seen.set(key, i);
  });
  return input as string[];
}

/**
 * Validates `acceptedSchemaVersions`: a non-empty list of distinct positive integers.
 * @throws ValidationError naming `acceptedSchemaVersions` or `acceptedSchemaVersions[i]`.
 */
export function validateAcceptedSchemaVersions(input: unknown, field = "acceptedSchemaVersions"): number[] {
  if (!Array.isArray(input)) throw new ValidationError(field, "must be an array of schema versions");
  if (input.length === 0) throw new ValidationError(field, "must list at least one schema version");
  const seen = new Map<number, number>();
  input.forEach((v, i) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw new ValidationError(`${field}[${i}]`, "must be a positive integer");
    const earlier = seen.get(v);
    if (earlier !== undefined) throw new ValidationError(`${field}[${i}]`, `duplicates ${field}[${earlier}]`);
    seen.set(v, i);
  });
  return input as number[];
}
