import type { EventEnvelope } from "@novatrade/domain";
import { assertDeliverableSize, type EventCodec, type SchemaCatalogue } from "@novatrade/event-codec";
import { eventHeaders } from "./event-headers.js";
import { completeEnvelope, newEventId, type EventInput } from "./event-input.js";

export interface EventEncoderDependencies {
  /** Validates and encodes; the composition root's EventCodec. */
  codec: Pick<EventCodec, "encode" | "decode">;
  /** The schemas this build knows; gives the default `schemaVersion` of each type. */
  catalogue: SchemaCatalogue;
  /** Now, for `createdAt`; default the system clock. */
  clock?: () => Date;
  /** Fresh event ids; default `evt_` + 24 random hex digits. */
  newEventId?: () => string;
}

/** A domain event ready to produce: the complete envelope and the Kafka record for it. */
export interface PreparedEvent {
  /**
   * The complete envelope as consumers will decode it (instants with milliseconds, as Avro
   * keeps them), so a producer can compare what it sent with what arrives.
   */
  envelope: EventEnvelope;
  /**
   * The organization UUID. Kafka keeps order only within a partition, and the default
   * partitioner sends equal keys to one partition, so one organization's events reach the
   * router in the order they were produced (e.g. a compliance status INCOMPLETE → VALID →
   * EXPIRED). Tenancy is also the unit of delivery (SPEC §3), so nothing needs an order across
   * organizations. The cost: a very busy organization loads one partition more than others.
   */
  key: string;
  /** Avro in the Confluent wire format. */
  value: Buffer;
  headers: Record<string, string>;
}

export interface EventEncoder {
  /**
   * Fills the defaults, validates the envelope and `data`, and encodes. Produces nothing.
   * @throws ValidationError naming the field (`type`, `organizationUuid`, `data.verdict`)
   * before any registry call; EventTooLargeError (field `body`) when the event's JSON body
   * would be larger than MAX_EVENT_BODY_BYTES (256 KiB).
   * @throws SchemaRegistryError when the schema is not registered or the registry is down.
   */
  prepare(input: EventInput): Promise<PreparedEvent>;
}

export function createEventEncoder(dependencies: EventEncoderDependencies): EventEncoder {
  const defaults = {
    catalogue: dependencies.catalogue,
    clock: dependencies.clock ?? (() => new Date()),
    newEventId: dependencies.newEventId ?? newEventId,
  };
  return {
    async prepare(input) {
      const value = await dependencies.codec.encode(completeEnvelope(input, defaults));
      // Read back rather than returned as given: `2026-04-22T10:30:00Z` becomes
      // `2026-04-22T10:30:00.000Z` on the way through Avro, in the envelope and inside `data`.
      // The codec knows the schema it just wrote with, so this costs no registry call.
      const { envelope } = await dependencies.codec.decode(value);
      // Refused up front: the router would dead-letter it (too_large), never deliver it.
      assertDeliverableSize(JSON.stringify(envelope));
      return { envelope, key: envelope.organizationUuid, value, headers: eventHeaders(envelope) };
    },
  };
}
