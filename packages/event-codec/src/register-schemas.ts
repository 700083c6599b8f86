import { SchemaRegistrationError, SchemaRegistryError } from "./codec-errors.js";
import { createSchemaRegistryAdmin, type CompatibilityLevel, type SchemaRegistryAdmin } from "./registry-admin.js";
import type { CatalogueSchema, SchemaCatalogue } from "./schema-catalogue.js";

/** What registerSchemas did with one schema. */
export interface SchemaRegistration {
  subject: string;
  /** Event type, or internal schema name (`delivery-request`). */
  schema: string;
  /** Catalogue version (`v2.avsc` is 2); null for internal schemas. */
  catalogueVersion: number | null;
  /** The registry's version number under the subject. */
  registryVersion: number;
  /** Registry id: the one in the wire-format header. */
  id: number;
  /** False when the registry already held it (re-runs change nothing). */
  created: boolean;
}

export interface RegisterSchemasOptions {
  /** Set on every subject before its first version is registered. Default FULL_TRANSITIVE. */
  compatibility?: CompatibilityLevel;
  /** Called as each schema is done, for progress output. */
  onRegistered?: (registration: SchemaRegistration) => void;
}

/**
 * Registers every catalogue schema under its record's full name (RecordNameStrategy: many
 * event types share the domain topic), oldest version first, after setting the subject's
 * compatibility. The registry's compatibility check is the gate: FULL_TRANSITIVE means every
 * version can read, and be read by, every other, which is what render() relies on.
 * Idempotent: a schema already under its subject is reported, not registered again.
 * @param registry a registry admin, or the base URL of a Confluent-compatible API.
 * @throws SchemaRegistrationError when the registry refuses a schema (names subject, version
 * and the registry's message). Earlier schemas stay registered.
 * @throws SchemaRegistryError when the registry cannot be reached or answers unexpectedly.
 */
export async function registerSchemas(
  registry: SchemaRegistryAdmin | string,
  catalogue: SchemaCatalogue,
  options: RegisterSchemasOptions = {},
): Promise<SchemaRegistration[]> {
  const admin = typeof registry === "string" ? createSchemaRegistryAdmin({ url: registry }) : registry;
  const compatibility = options.compatibility ?? "FULL_TRANSITIVE";
  const bySubject = new Map<string, CatalogueSchema[]>();
  for (const schema of catalogue.all()) {
    bySubject.set(schema.subject, [...(bySubject.get(schema.subject) ?? []), schema]);
  }

  const registrations: SchemaRegistration[] = [];
  for (const [subject, schemas] of bySubject) {
    await admin.setCompatibility(subject, compatibility);
    for (const schema of schemas) {
      const registration = await registerOne(admin, subject, schema);
      registrations.push(registration);
      options.onRegistered?.(registration);
    }
  }
  return registrations;
}

async function registerOne(admin: SchemaRegistryAdmin, subject: string, schema: CatalogueSchema): Promise<SchemaRegistration> {
  const catalogueVersion = schema.kind === "event" ? schema.version : null;
  const describe = (registryVersion: number, id: number, created: boolean): SchemaRegistration => ({
    subject,
    schema: schema.kind === "event" ? schema.eventType : schema.name,
    catalogueVersion,
    registryVersion,
    id,
    created,
  });

  const existing = await admin.findVersion(subject, schema.text);
  if (existing) return describe(existing.version, existing.id, false);
  try {
    await admin.register(subject, schema.text);
  } catch (error) {
    // 409: incompatible with earlier versions; 422: not a valid schema. Both mean the file
    // must change, so say which one and quote the registry.
    if (error instanceof SchemaRegistryError && (error.status === 409 || error.status === 422)) {
      throw new SchemaRegistrationError(subject, catalogueVersion, error.status, error.errorCode, error.registryMessage ?? error.message);
    }
    throw error;
  }
  const registered = await admin.findVersion(subject, schema.text);
  if (!registered) {
    throw new SchemaRegistryError(`registered ${subject} but the registry cannot find it again`, { retriable: true });
  }
  return describe(registered.version, registered.id, true);
}
