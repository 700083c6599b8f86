import type { EventEnvelope } from "@novatrade/domain";

/** Content type of a domain event's Kafka value: Avro in the Confluent wire format. */
export const EVENT_CONTENT_TYPE = "application/vnd.novatrade.event+avro";

/**
 * Kafka header names on every domain event. They repeat envelope fields so that tools and
 * consumers can route, filter or dead-letter a record without decoding it (and can still say
 * which event it was when it does not decode). The Avro value stays the source of truth.
 */
export const EVENT_HEADERS = {
  contentType: "content-type",
  eventId: "event-id",
  eventType: "event-type",
  schemaVersion: "schema-version",
} as const;

/** The headers a domain event is produced with. */
export function eventHeaders(envelope: Pick<EventEnvelope, "id" | "type" | "schemaVersion">): Record<string, string> {
  return {
    [EVENT_HEADERS.contentType]: EVENT_CONTENT_TYPE,
    [EVENT_HEADERS.eventId]: envelope.id,
    [EVENT_HEADERS.eventType]: envelope.type,
    [EVENT_HEADERS.schemaVersion]: String(envelope.schemaVersion),
  };
}
