import avro from "avsc";
import type { Type } from "avsc";
import type { SchemaCatalogue } from "./schema-catalogue.js";
import type { SchemaRegistryClient } from "./schema-registry-client.js";

/**
 * A schema registry in memory with the two client methods the codecs use, for unit tests
 * that want a real EventCodec/RecordCodec without a registry process. It behaves like the
 * real client where that matters: ids are shared by identical schema text, unknown ids fail
 * with status 404, and getSchema() builds its avsc Type without logical types.
 */
export class InMemorySchemaRegistry implements SchemaRegistryClient {
  private readonly texts = new Map<number, string>();
  private readonly idsByText = new Map<string, number>();
  private readonly subjects = new Map<string, Set<number>>();
  private nextId: number;
  /** Calls made, for tests that assert on caching. */
  readonly calls = { getSchema: 0, getRegistryIdBySchema: 0 };
  /** When set, every call fails as if the registry were unreachable. */
  unavailable = false;

  constructor(options: { firstId?: number } = {}) {
    this.nextId = options.firstId ?? 1;
  }

  /** Registers a schema text under a subject and returns its id. */
  add(subject: string, text: string): number {
    let id = this.idsByText.get(text);
    if (id === undefined) {
      id = this.nextId++;
      this.idsByText.set(text, id);
      this.texts.set(id, text);
    }
    this.subjects.set(subject, new Set([...(this.subjects.get(subject) ?? []), id]));
    return id;
  }

  /** Registers every schema of a catalogue. */
  addCatalogue(catalogue: SchemaCatalogue): this {
    for (const schema of catalogue.all()) this.add(schema.subject, schema.text);
    return this;
  }

  async getSchema(id: number): ReturnType<SchemaRegistryClient["getSchema"]> {
    this.calls.getSchema++;
    this.failIfUnavailable();
    const text = this.texts.get(id);
    if (text === undefined) throw httpError(404, `No content with ID '${id}' was found.`);
    return avro.Type.forSchema(JSON.parse(text)) as Type as unknown as Awaited<ReturnType<SchemaRegistryClient["getSchema"]>>;
  }

  async getRegistryIdBySchema(subject: string, schema: Parameters<SchemaRegistryClient["getRegistryIdBySchema"]>[1]): Promise<number> {
    this.calls.getRegistryIdBySchema++;
    this.failIfUnavailable();
    const text = typeof schema === "object" && schema !== null && "schema" in schema ? String(schema.schema) : JSON.stringify(schema);
    const id = this.idsByText.get(text);
    if (id === undefined || !this.subjects.get(subject)?.has(id)) {
      // What the real client throws for a 404 on this call.
      const error = new Error(`No schema under ${subject}`);
      error.name = "ConfluentSchemaRegistryError";
      throw error;
    }
    return id;
  }

  private failIfUnavailable(): void {
    if (this.unavailable) throw httpError(400, "connect ECONNREFUSED 127.0.0.1:18081");
  }
}

function httpError(status: number, message: string): Error & { status: number } {
  return Object.assign(new Error(message), { status });
}
