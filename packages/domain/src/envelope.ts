import { ValidationError } from "./errors.js";
import { EVENT_SOURCES, isEventType, type EventSource, type EventType } from "./event-types.js";

/**
 * The JSON envelope every endpoint receives (SPEC §2). `id` is the receivers' dedupe key and
 * never changes across retries and replays.
 */
export interface EventEnvelope<Data = Record<string, unknown>> {
  id: string;
  type: EventType;
  /** Version of the `data` shape, 1-based. */
  schemaVersion: number;
  source: EventSource;
  /** ISO 8601 instant in UTC, e.g. `2026-04-22T10:30:00.000Z`. */
  createdAt: string;
  organizationUuid: string;
  /** The dealer the event belongs to; null for events that concern no partner. */
  partnerUuid: string | null;
  data: Data;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EVENT_ID = /^evt_[A-Za-z0-9]{12,64}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

export function isEventId(value: unknown): value is string {
  return typeof value === "string" && EVENT_ID.test(value);
}

/**
 * Checks the envelope fields of a candidate event and returns it typed. `data` is only checked
 * to be an object here: its shape is the Avro schema's business.
 * @throws ValidationError naming the first field that is wrong.
 */
export function validateEnvelope(input: unknown): EventEnvelope {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new ValidationError("(event)", "must be a JSON object");
  }
  const event = input as Record<string, unknown>;
  const required = ["id", "type", "schemaVersion", "source", "createdAt", "organizationUuid", "data"];
  for (const field of required) {
    if (event[field] === undefined || event[field] === null) throw new ValidationError(field, "is required");
  }
  if (!isEventId(event.id)) throw new ValidationError("id", "must look like evt_<12 to 64 letters or digits>");
  if (typeof event.type !== "string" || !isEventType(event.type)) {
    throw new ValidationError("type", `unknown event type ${JSON.stringify(event.type)}`);
  }
  if (!Number.isInteger(event.schemaVersion) || (event.schemaVersion as number) < 1) {
    throw new ValidationError("schemaVersion", "must be a positive integer");
  }
  if (typeof event.source !== "string" || !(EVENT_SOURCES as readonly string[]).includes(event.source)) {
    throw new ValidationError("source", `must be one of ${EVENT_SOURCES.join(", ")}`);
  }
  if (typeof event.createdAt !== "string" || !ISO_UTC.test(event.createdAt) || Number.isNaN(Date.parse(event.createdAt))) {
    throw new ValidationError("createdAt", "must be an ISO 8601 UTC timestamp such as 2026-04-22T10:30:00Z");
  }
  if (!isUuid(event.organizationUuid)) throw new ValidationError("organizationUuid", "must be a UUID");
  const partnerUuid = event.partnerUuid ?? null;
  if (partnerUuid !== null && !isUuid(partnerUuid)) throw new ValidationError("partnerUuid", "must be a UUID or null");
  if (typeof event.data !== "object" || Array.isArray(event.data)) {
    throw new ValidationError("data", "must be an object");
  }
  return {
    id: event.id,
    type: event.type,
    schemaVersion: event.schemaVersion as number,
    source: event.source as EventSource,
    createdAt: event.createdAt,
    organizationUuid: event.organizationUuid,
    partnerUuid,
    data: event.data as Record<string, unknown>,
  };
}
