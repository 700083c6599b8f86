import {
  DecodeError,
  NovatradeError,
  SchemaVersionUnavailableError,
  ValidationError,
  validateEnvelope,
  type EventEnvelope,
} from "@novatrade/domain";
import { parseEventSchema } from "./avro-types.js";
import { assertValidAvro } from "./avro-validation.js";
import { toPlain } from "./json-form.js";
import { ResolverCache } from "./resolver-cache.js";
import type { SchemaCatalogue } from "./schema-catalogue.js";
import { SchemaIdCache } from "./schema-ids.js";
import type { SchemaRegistryClient } from "./schema-registry-client.js";
import { fromWireFormat, toWireFormat } from "./wire-format.js";
import { WriterSchemaCache } from "./writer-schemas.js";

export interface EventCodecDependencies {
  /** A @kafkajs/confluent-schema-registry client (or anything with the same two methods). */
  registry: SchemaRegistryClient;
  catalogue: SchemaCatalogue;
}

/**
 * An event read off the domain topic, in the shape its producer wrote it. For a writer schema
 * this build does not know, instants inside `data` may be epoch-millisecond numbers; render()
 * always produces this build's JSON contract.
 */
export interface DecodedEvent {
  /** JSON form: instants are ISO 8601 strings, `schemaVersion` is the writer's. */
  envelope: EventEnvelope;
  /** Registry id from the message header. */
  writerSchemaId: number;
  /** Version of the schema the producer wrote with. */
  writerVersion: number;
  /** The Avro bytes after the wire-format header; render() resolves other versions from them. */
  avroPayload: Buffer;
}

/** An event in the version an endpoint accepts. */
export interface RenderedEvent {
  schemaVersion: number;
  envelope: EventEnvelope;
  /** `JSON.stringify(envelope)`: the exact body to sign and send. */
  body: string;
}

/**
 * Encodes, decodes and renders domain events: Avro in Confluent wire format on Kafka, the
 * JSON envelope of SPEC §2 towards endpoints. One per process, built in the composition root;
 * its caches (registry ids, writer Types, resolvers) live as long as it does.
 */
export class EventCodec {
  private readonly catalogue: SchemaCatalogue;
  private readonly ids: SchemaIdCache;
  private readonly writers: WriterSchemaCache;
  private readonly resolvers = new ResolverCache();

  constructor(dependencies: EventCodecDependencies) {
    this.catalogue = dependencies.catalogue;
    this.ids = new SchemaIdCache(dependencies.registry);
    this.writers = new WriterSchemaCache(dependencies.registry, dependencies.catalogue, parseEventSchema);
  }

  /**
   * Validates the envelope (domain rules) and `data` (the Avro schema of its type and
   * `schemaVersion`), then encodes it with that schema's registry id.
   * @throws ValidationError naming the field (`data.verdict`) — before any registry call.
   * @throws SchemaRegistryError when the schema is not registered or the registry is down.
   */
  async encode(input: EventEnvelope): Promise<Buffer> {
    const envelope = validateEnvelope(input);
    const schema = this.catalogue.eventSchema(envelope.type, envelope.schemaVersion);
    if (!schema) {
      const known = this.catalogue.events.get(envelope.type)?.versions.map((v) => v.version) ?? [];
      throw new ValidationError("schemaVersion", `${envelope.type} has no schema v${envelope.schemaVersion} (known: ${known.join(", ")})`);
    }
    assertValidAvro(schema.type, envelope);
    const avroPayload = schema.type.toBuffer(envelope);
    const id = await this.ids.idOf(schema);
    this.writers.remember(id, schema);
    return toWireFormat(id, avroPayload);
  }

  /**
   * Looks up the registry id of every event schema version of this build now, so that later
   * encodes and decodes of them never need the registry: a registry restart mid-run changes
   * nothing.
   * @throws SchemaRegistryError as `encode` does (retriable while the registry is unreachable).
   */
  async preload(): Promise<void> {
    const schemas = [...this.catalogue.events.values()].flatMap((family) => family.versions);
    await Promise.all(schemas.map(async (schema) => this.writers.remember(await this.ids.idOf(schema), schema)));
  }

  /**
   * Reads a wire-format message with the schema it was written with.
   * @throws DecodeError (not retriable) for a bad magic byte, an unknown schema id, a schema
   * that is not an event, or bytes that are not valid Avro; retriable when the registry could
   * not be asked.
   * @throws ValidationError when the bytes decode but the envelope breaks the domain rules
   * (e.g. `type` does not match the schema).
   */
  async decode(buffer: Buffer): Promise<DecodedEvent> {
    const { schemaId, avroPayload } = fromWireFormat(buffer);
    const writer = await this.writers.get(schemaId);
    if (writer.known?.kind === "internal") {
      throw new DecodeError(`schema id ${schemaId} is ${writer.known.subject}, an internal record, not an event`);
    }
    let decoded: unknown;
    try {
      decoded = writer.type.fromBuffer(avroPayload);
    } catch (error) {
      throw new DecodeError(`payload is not valid Avro for schema id ${schemaId}: ${(error as Error).message}`, { cause: error });
    }
    const envelope = validateEnvelope(normaliseForeignEnvelope(toPlain(decoded)));
    if (writer.known) {
      if (envelope.type !== writer.known.eventType) {
        throw new ValidationError("type", `${envelope.type} written with the schema of ${writer.known.eventType} (${writer.known.subject})`);
      }
      if (envelope.schemaVersion !== writer.known.version) {
        throw new ValidationError("schemaVersion", `says ${envelope.schemaVersion} but the event was written with v${writer.known.version}`);
      }
    }
    return { envelope, writerSchemaId: schemaId, writerVersion: envelope.schemaVersion, avroPayload };
  }

  /**
   * The event in the highest of `acceptedVersions` that Avro schema resolution can produce
   * from the writer schema, with `schemaVersion` set to that version.
   * @param decoded from this codec's decode() (which loaded the writer schema).
   * @throws SchemaVersionUnavailableError when no accepted version can be produced; the
   * delivery is then recorded as skipped (SPEC §3).
   */
  render(decoded: DecodedEvent, acceptedVersions: readonly number[]): RenderedEvent {
    const writer = this.writers.peek(decoded.writerSchemaId);
    if (!writer) {
      // A programming error, not bad input: the event did not come from this codec's decode().
      throw new NovatradeError(`schema id ${decoded.writerSchemaId} was not loaded: render() takes what this codec's decode() returned`);
    }
    const eventType = decoded.envelope.type;
    const candidates = [...new Set(acceptedVersions)].filter((v) => Number.isInteger(v) && v > 0).sort((a, b) => b - a);
    let lastError: Error | undefined;
    for (const version of candidates) {
      const reader = this.catalogue.eventSchema(eventType, version);
      // Only versions this build has are rendered: the catalogue is the JSON contract with
      // endpoints. A version only a newer producer knows is not passed through as written,
      // because its instants may have lost their ISO form (see WriterSchemaCache).
      if (!reader) continue;
      if (writer.known === reader) return rendered(version, decoded.envelope);
      const entry = this.resolvers.get(writer.id, `${eventType}/v${version}`, reader.type, writer.type);
      if ("error" in entry) {
        lastError = entry.error;
        continue;
      }
      try {
        const value = toPlain(reader.type.fromBuffer(decoded.avroPayload, entry.resolver)) as EventEnvelope;
        return rendered(version, { ...value, schemaVersion: version });
      } catch (error) {
        lastError = error as Error;
      }
    }
    throw new SchemaVersionUnavailableError(eventType, decoded.writerVersion, [...acceptedVersions], { cause: lastError });
  }

}

export function createEventCodec(dependencies: EventCodecDependencies): EventCodec {
  return new EventCodec(dependencies);
}

function rendered(schemaVersion: number, envelope: EventEnvelope): RenderedEvent {
  return { schemaVersion, envelope, body: JSON.stringify(envelope) };
}

/**
 * A writer schema this build does not know was parsed from what the registry client returned,
 * which has lost the timestamp-millis annotation; `createdAt` then arrives as a number. The
 * envelope is a fixed contract, so it is converted here; instants inside `data` of such a
 * schema stay numbers until rendered into a version this build knows.
 */
function normaliseForeignEnvelope(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  const createdAt = (value as { createdAt?: unknown }).createdAt;
  // Out-of-range numbers are left alone for validateEnvelope to reject by name.
  if (typeof createdAt === "number" && Math.abs(createdAt) <= 8.64e15) {
    return { ...value, createdAt: new Date(createdAt).toISOString() };
  }
  return value;
}
