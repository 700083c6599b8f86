import { randomBytes } from "node:crypto";
import { EVENT_TYPES, ValidationError, isEventType, type EventEnvelope, type EventSource } from "@novatrade/domain";
import type { SchemaCatalogue } from "@novatrade/event-codec";

/**
 * What a producer says about an event; everything the envelope needs that the producer does
 * not say is filled in by `completeEnvelope`.
 */
export interface EventInput {
  /** One of the catalogue's event types, e.g. `kyc.vies_check_failed`. */
  type: string;
  /** The payload; validated against the Avro schema of `type` and `schemaVersion`. */
  data: Record<string, unknown>;
  /** The tenant. Also the Kafka key, so one organization's events stay in order. */
  organizationUuid: string;
  /** The dealer the event belongs to; default null (the event concerns no partner). */
  partnerUuid?: string | null;
  /**
   * Where the change came from. Required, with no default: it decides delivery (`API` events
   * are never delivered, SPEC §3 "no echo"), so a guessed value would either leak an API
   * caller's own change back to it or silently hide a change from integrators.
   */
  source: EventSource;
  /** Version of the `data` shape; default the newest version in the schema catalogue. */
  schemaVersion?: number;
  /** Default a fresh random id (`evt_` + 24 hex digits). Pass one to make a retry idempotent. */
  id?: string;
  /** ISO 8601 UTC instant; default the clock's now. */
  createdAt?: string;
}

export interface EnvelopeDefaults {
  catalogue: SchemaCatalogue;
  /** Now; `createdAt` when the input has none. */
  clock: () => Date;
  /** A fresh event id; `id` when the input has none. */
  newEventId: () => string;
}

/** `evt_` and 24 random hex digits (96 bits): unique without coordination. */
export function newEventId(): string {
  return `evt_${randomBytes(12).toString("hex")}`;
}

/**
 * The full envelope for `input`: defaults filled in, UUIDs in their canonical lower case (the
 * Kafka key is the organization UUID, and `550E…` and `550e…` must land on the same
 * partition). Not validated yet, except that `type` must be known, since the default
 * `schemaVersion` depends on it.
 * @throws ValidationError naming `type` when it is not an event type of the catalogue.
 */
export function completeEnvelope(input: EventInput, defaults: EnvelopeDefaults): EventEnvelope {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new ValidationError("(event)", "must be an object");
  }
  const { type } = input;
  if (type === undefined || type === null) throw new ValidationError("type", "is required");
  if (typeof type !== "string" || !isEventType(type)) {
    throw new ValidationError("type", `unknown event type ${JSON.stringify(type)} (known: ${EVENT_TYPES.join(", ")})`);
  }
  const family = defaults.catalogue.events.get(type);
  if (!family) {
    throw new ValidationError("type", `${type} has no schema in ${defaults.catalogue.directory}`);
  }
  return {
    id: input.id ?? defaults.newEventId(),
    type,
    schemaVersion: input.schemaVersion ?? family.latest.version,
    source: input.source,
    createdAt: input.createdAt ?? defaults.clock().toISOString(),
    organizationUuid: lowerCaseIfString(input.organizationUuid),
    partnerUuid: input.partnerUuid === undefined || input.partnerUuid === null ? null : lowerCaseIfString(input.partnerUuid),
    data: input.data,
  };
}

/** Non-strings are left for validation to reject by name. */
function lowerCaseIfString<T>(value: T): T {
  return (typeof value === "string" ? value.toLowerCase() : value) as T;
}
