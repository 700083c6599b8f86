import type { SchemaRegistry } from "@kafkajs/confluent-schema-registry";

/**
 * The part of @kafkajs/confluent-schema-registry's client the codecs use. A structural type,
 * so the composition root passes the real client and unit tests pass an in-memory one. The
 * client caches schemas by id and dedupes concurrent fetches; the codecs add their own cache
 * of avsc Types on top (see WriterSchemaCache).
 */
export type SchemaRegistryClient = Pick<SchemaRegistry, "getSchema" | "getRegistryIdBySchema">;

/** HTTP status carried by the client's errors (its ResponseError has `status`), if any. */
export function registryErrorStatus(error: unknown): number | undefined {
  if (typeof error === "object" && error !== null && "status" in error && typeof error.status === "number") {
    return error.status;
  }
  return undefined;
}

/**
 * Whether the client said "not found". getSchema() rethrows the registry's 404 as is;
 * getRegistryIdBySchema() turns it into a ConfluentSchemaRegistryError that has no status and
 * is not exported from the package's ESM entry, so it is recognised by name.
 */
export function isRegistryNotFound(error: unknown): boolean {
  return registryErrorStatus(error) === 404 || (error instanceof Error && error.name === "ConfluentSchemaRegistryError");
}
