import avro from "avsc";
import type { Type } from "avsc";
import { DecodeError } from "@novatrade/domain";
import { canonicalFingerprint } from "./avro-types.js";
import type { CatalogueSchema, SchemaCatalogue } from "./schema-catalogue.js";
import { isRegistryNotFound, type SchemaRegistryClient } from "./schema-registry-client.js";

/** The schema a message was written with. */
export interface WriterSchema {
  /** Registry id from the message header. */
  readonly id: number;
  /** avsc Type to read the payload with; built once per id. */
  readonly type: Type;
  /** This build's schema with the same canonical form, when there is one. */
  readonly known: CatalogueSchema | undefined;
}

/**
 * Writer schemas by registry id. The registry client caches the schema, but the avsc Type it
 * builds lacks our logical types (it parses without them, and avsc drops the annotation), so
 * each id is matched once to the catalogue schema that reads the same way and that schema's
 * Type is used. A schema this build does not know (written by a newer producer) is rebuilt
 * from what the registry returned.
 */
export class WriterSchemaCache {
  private readonly ready = new Map<number, WriterSchema>();
  private readonly pending = new Map<number, Promise<WriterSchema>>();

  constructor(
    private readonly registry: SchemaRegistryClient,
    private readonly catalogue: SchemaCatalogue,
    /** How to build a Type for a schema the catalogue does not have. */
    private readonly parseForeign: (schema: unknown) => Type,
  ) {}

  /** The writer schema if it was loaded before; never calls the registry. */
  peek(id: number): WriterSchema | undefined {
    return this.ready.get(id);
  }

  /** Records that `id` is a catalogue schema (learnt when encoding), saving a registry fetch. */
  remember(id: number, schema: CatalogueSchema): void {
    if (!this.ready.has(id)) this.ready.set(id, { id, type: schema.type, known: schema });
  }

  /**
   * @throws DecodeError, not retriable, when the registry has no schema with this id or it is
   * not Avro; retriable when the registry could not be asked.
   */
  async get(id: number): Promise<WriterSchema> {
    const ready = this.ready.get(id);
    if (ready) return ready;
    let pending = this.pending.get(id);
    if (!pending) {
      // Failures are not cached: a registry outage must not poison an id for good.
      pending = this.load(id).finally(() => this.pending.delete(id));
      this.pending.set(id, pending);
    }
    return pending;
  }

  private async load(id: number): Promise<WriterSchema> {
    let fetched: unknown;
    try {
      fetched = await this.registry.getSchema(id);
    } catch (error) {
      if (isRegistryNotFound(error)) {
        throw new DecodeError(`unknown schema id ${id}: the schema registry has no such schema`, { cause: error });
      }
      throw new DecodeError(`could not fetch schema id ${id} from the schema registry`, { retriable: true, cause: error });
    }
    if (!avro.Type.isType(fetched)) throw new DecodeError(`schema id ${id} is not an Avro schema`);
    const fetchedType = fetched as Type;
    const known = this.catalogue.byFingerprint(canonicalFingerprint(fetchedType));
    let type = known?.type;
    if (!type) {
      try {
        type = this.parseForeign(fetchedType.schema({ exportAttrs: true }));
      } catch (error) {
        throw new DecodeError(`schema id ${id} cannot be used: ${(error as Error).message}`, { cause: error });
      }
    }
    const writer: WriterSchema = { id, type, known };
    this.ready.set(id, writer);
    return writer;
  }
}
