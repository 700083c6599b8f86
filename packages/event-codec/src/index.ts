export { TimestampMillisIsoType, parseIsoInstant } from "./timestamp-millis-iso-type.js";
export { parseEventSchema, parseInternalSchema, canonicalFingerprint } from "./avro-types.js";
export { SchemaCatalogueError, SchemaRegistrationError, SchemaRegistryError } from "./codec-errors.js";
export type {
  CatalogueSchema,
  EventSchemaFamily,
  EventSchemaVersion,
  InternalSchema,
  SchemaCatalogue,
} from "./schema-catalogue.js";
export { loadSchemaCatalogue, defaultSchemasDirectory, type LoadSchemaCatalogueOptions } from "./load-schema-catalogue.js";
export { ENVELOPE_FIELDS } from "./envelope-schema-check.js";
export { fullTransitiveProblems } from "./version-compatibility.js";
export type { SchemaRegistryClient } from "./schema-registry-client.js";
export {
  createSchemaRegistryAdmin,
  type CompatibilityLevel,
  type RegisteredVersion,
  type SchemaRegistryAdmin,
  type SchemaRegistryAdminOptions,
} from "./registry-admin.js";
export { registerSchemas, type RegisterSchemasOptions, type SchemaRegistration } from "./register-schemas.js";
export { toWireFormat, fromWireFormat } from "./wire-format.js";
export {
  EventCodec,
  createEventCodec,
  type DecodedEvent,
  type EventCodecDependencies,
  type RenderedEvent,
} from "./event-codec.js";
export { RecordCodec, createRecordCodec, type RecordCodecDependencies } from "./record-codec.js";
export type * from "./internal-records.js";
export { sampleEvent, sampleVersions } from "./sample-events.js";
export { InMemorySchemaRegistry } from "./in-memory-schema-registry.js";
export { deadLetterFor, type FailedRecord } from "./dead-letter.js";
export { retryWhileRetriable, isRetriable, backoffDelayMs, type RetryRetriableOptions } from "./retry-retriable.js";
export { MAX_EVENT_BODY_BYTES, EventTooLargeError, assertDeliverableSize } from "./event-size.js";
