import type { Type } from "avsc";
import type { EventType } from "@novatrade/domain";

/** One version of one event type's schema: `schemas/events/<type>/v<version>.avsc`. */
export interface EventSchemaVersion {
  readonly kind: "event";
  readonly eventType: EventType;
  /** The `<version>` of `v<version>.avsc`, 1-based; what `schemaVersion` says in the envelope. */
  readonly version: number;
  /** Registry subject: the record's full name (RecordNameStrategy), since many types share a topic. */
  readonly subject: string;
  /** File the schema was read from. */
  readonly file: string;
  /**
   * The schema as compact JSON: exactly the text registered and looked up. It must be
   * byte-identical on every run, because Apicurio compares schema text byte for byte.
   */
  readonly text: string;
  /** The parsed JSON of the file. */
  readonly schema: Readonly<Record<string, unknown>>;
  /** avsc Type, built once; instants are ISO strings (see TimestampMillisIsoType). */
  readonly type: Type;
  /** Hex SHA-256 of the Parsing Canonical Form. */
  readonly fingerprint: string;
}

/** Every version of one event type, oldest first. */
export interface EventSchemaFamily {
  readonly eventType: EventType;
  readonly subject: string;
  readonly versions: readonly EventSchemaVersion[];
  readonly latest: EventSchemaVersion;
}

/** An internal topic's record schema: `schemas/internal/<name>.avsc`. */
export interface InternalSchema {
  readonly kind: "internal";
  /** File name without `.avsc`, e.g. `delivery-request`. */
  readonly name: string;
  readonly subject: string;
  readonly file: string;
  readonly text: string;
  readonly schema: Readonly<Record<string, unknown>>;
  /** avsc Type, built once; instants are numbers of milliseconds since the epoch. */
  readonly type: Type;
  readonly fingerprint: string;
}

export type CatalogueSchema = EventSchemaVersion | InternalSchema;

/** The schemas this build knows, parsed once at start-up. */
export interface SchemaCatalogue {
  /** The schemas/ directory it was loaded from. */
  readonly directory: string;
  readonly events: ReadonlyMap<EventType, EventSchemaFamily>;
  readonly internal: ReadonlyMap<string, InternalSchema>;
  eventSchema(eventType: string, version: number): EventSchemaVersion | undefined;
  internalSchema(name: string): InternalSchema | undefined;
  /** The schema whose Parsing Canonical Form has this fingerprint, if this build has it. */
  byFingerprint(fingerprint: string): CatalogueSchema | undefined;
  /** Every schema in registration order: event types as listed in the domain, versions ascending, then internal ones. */
  all(): CatalogueSchema[];
}
