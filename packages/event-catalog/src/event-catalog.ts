import { avroToJsonSchema, type JsonSchema } from "./avro-to-json-schema.js";

/** One schema version of one event type, as read from schemas/events/<type>/v<n>.avsc. */
export interface CatalogSource {
  eventType: string;
  versions: ReadonlyArray<{
    version: number;
    /** The parsed .avsc (an Avro record). */
    schema: Readonly<Record<string, unknown>>;
    /** A JSON body of this version, as a receiver gets it (the kept sample event). */
    example: unknown;
  }>;
}

export interface CatalogVersion {
  version: number;
  /** JSON Schema (2020-12) of the JSON body of this version. */
  jsonSchema: JsonSchema;
  example: unknown;
}

export interface CatalogEntry {
  type: string;
  /** The record's doc: what happened. */
  description: string;
  latestVersion: number;
  versions: CatalogVersion[];
}

/**
 * The event catalog: every type with each schema version as JSON Schema and an example body.
 * `type` and `schemaVersion` are pinned with `const`, because a body of this version always
 * carries exactly those values.
 */
export function buildEventCatalog(sources: readonly CatalogSource[]): CatalogEntry[] {
  return sources.map((source) => {
    const versions = [...source.versions]
      .sort((a, b) => a.version - b.version)
      .map((version) => {
        const jsonSchema = avroToJsonSchema(version.schema);
        const properties = jsonSchema.properties as Record<string, JsonSchema> | undefined;
        if (properties?.type) properties.type = { ...properties.type, const: source.eventType };
        if (properties?.schemaVersion) properties.schemaVersion = { ...properties.schemaVersion, const: version.version };
        return { version: version.version, jsonSchema: { $id: `urn:novatrade:event:${source.eventType}:v${version.version}`, ...jsonSchema }, example: version.example };
      });
    const latest = source.versions.reduce((best, version) => (version.version > best.version ? version : best), source.versions[0]!);
    return {
      type: source.eventType,
      description: typeof latest.schema.doc === "string" ? latest.schema.doc : "",
      latestVersion: latest.version,
      versions,
    };
  });
}
