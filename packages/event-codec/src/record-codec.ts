import { DecodeError, NovatradeError } from "@novatrade/domain";
import { parseInternalSchema } from "./avro-types.js";
import { assertValidAvro } from "./avro-validation.js";
import type { Complete, InternalRecordName, InternalRecords } from "./internal-records.js";
import { toPlain } from "./json-form.js";
import { ResolverCache } from "./resolver-cache.js";
import type { InternalSchema, SchemaCatalogue } from "./schema-catalogue.js";
import { SchemaIdCache } from "./schema-ids.js";
import type { SchemaRegistryClient } from "./schema-registry-client.js";
import { fromWireFormat, toWireFormat } from "./wire-format.js";
import { WriterSchemaCache } from "./writer-schemas.js";

export interface RecordCodecDependencies {
  /** A @kafkajs/confluent-schema-registry client (or anything with the same two methods). */
  registry: SchemaRegistryClient;
  catalogue: SchemaCatalogue;
}

/**
 * Avro + registry for the internal topics (delivery requests, outcomes, endpoint config,
 * dead letters), by schema name. Records are read into this build's schema through Avro
 * resolution, so during a rolling upgrade old and new services read each other's records.
 */
export class RecordCodec {
  private readonly catalogue: SchemaCatalogue;
  private readonly ids: SchemaIdCache;
  private readonly writers: WriterSchemaCache;
  private readonly resolvers = new ResolverCache();

  constructor(dependencies: RecordCodecDependencies) {
    this.catalogue = dependencies.catalogue;
    this.ids = new SchemaIdCache(dependencies.registry);
    this.writers = new WriterSchemaCache(dependencies.registry, dependencies.catalogue, parseInternalSchema);
  }

  /**
   * @throws ValidationError naming the wrong field — before any registry call.
   * @throws SchemaRegistryError when the schema is not registered or the registry is down.
   */
  async encode<N extends InternalRecordName>(name: N, value: InternalRecords[N]): Promise<Buffer> {
    const schema = this.schema(name);
    assertValidAvro(schema.type, value);
    const avroPayload = schema.type.toBuffer(value);
    const id = await this.ids.idOf(schema);
    this.writers.remember(id, schema);
    return toWireFormat(id, avroPayload);
  }

  /**
   * Looks up the registry id of every internal schema now, so that later encodes and decodes of
   * this build's records never need the registry: a registry restart mid-run changes nothing.
   * @throws SchemaRegistryError as `encode` does (retriable while the registry is unreachable).
   */
  async preload(): Promise<void> {
    await Promise.all(
      [...this.catalogue.internal.values()].map(async (schema) => this.writers.remember(await this.ids.idOf(schema), schema)),
    );
  }

  /**
   * @throws DecodeError (not retriable) for a bad magic byte, an unknown schema id, a record
   * of another schema, or bytes that are not valid Avro; retriable when the registry could
   * not be asked.
   */
  async decode<N extends InternalRecordName>(name: N, buffer: Buffer): Promise<Complete<InternalRecords[N]>> {
    const schema = this.schema(name);
    const { schemaId, avroPayload } = fromWireFormat(buffer);
    const writer = await this.writers.get(schemaId);
    let value: unknown;
    if (writer.known === schema) {
      value = this.read(schemaId, () => schema.type.fromBuffer(avroPayload));
    } else {
      if (writer.type.name !== schema.type.name) {
        throw new DecodeError(`schema id ${schemaId} is ${writer.type.name ?? "anonymous"}, expected ${schema.subject}`);
      }
      const entry = this.resolvers.get(schemaId, `internal/${name}`, schema.type, writer.type);
      if ("error" in entry) {
        throw new DecodeError(`schema id ${schemaId} cannot be read as this build's ${schema.subject}: ${entry.error.message}`, {
          cause: entry.error,
        });
      }
      value = this.read(schemaId, () => schema.type.fromBuffer(avroPayload, entry.resolver));
    }
    return toPlain(value) as Complete<InternalRecords[N]>;
  }

  private schema(name: string): InternalSchema {
    const schema = this.catalogue.internalSchema(name);
    // A typo in a service, not bad input.
    if (!schema) throw new NovatradeError(`no internal schema ${name} in ${this.catalogue.directory}/internal`);
    return schema;
  }

  private read(schemaId: number, read: () => unknown): unknown {
    try {
      return read();
    } catch (error) {
      throw new DecodeError(`payload is not valid Avro for schema id ${schemaId}: ${(error as Error).message}`, { cause: error });
    }
  }
}

export function createRecordCodec(dependencies: RecordCodecDependencies): RecordCodec {
  return new RecordCodec(dependencies);
}
