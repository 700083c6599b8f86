import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import avro from "avsc";
import type { Type } from "avsc";
import { EVENT_TYPES, isEventType, type EventType } from "@novatrade/domain";
import { canonicalFingerprint, parseEventSchema, parseInternalSchema } from "./avro-types.js";
import { SchemaCatalogueError } from "./codec-errors.js";
import { envelopeProblems, eventSourceDefinition, wrappedUnionPaths } from "./envelope-schema-check.js";
import type {
  CatalogueSchema,
  EventSchemaFamily,
  EventSchemaVersion,
  InternalSchema,
  SchemaCatalogue,
} from "./schema-catalogue.js";

const VERSION_FILE = /^v([1-9][0-9]*)\.avsc$/;

/**
 * The repository's schemas/ directory. Both src/ and dist/ sit one level below the package,
 * so the same relative step works for the TypeScript sources and the compiled output.
 */
export function defaultSchemasDirectory(): string {
  return fileURLToPath(new URL("../../../schemas/", import.meta.url));
}

export interface LoadSchemaCatalogueOptions {
  /** Directory holding `events/` and `internal/`; defaults to the repository's schemas/. */
  directory?: string;
}

/**
 * Reads and parses every schema under `events/<type>/v<n>.avsc` and `internal/<name>.avsc`.
 * Start-up only. Fails on the first broken rule, naming the file, so a bad schema stops a
 * deploy instead of a consumer: unknown event type directories, missing v1, gaps between
 * versions, a record name that changes between versions or is shared by two types, an
 * envelope that differs from SPEC §2, wrapped unions, or two versions that read alike.
 * @throws SchemaCatalogueError
 */
export async function loadSchemaCatalogue(options: LoadSchemaCatalogueOptions = {}): Promise<SchemaCatalogue> {
  const directory = path.resolve(options.directory ?? defaultSchemasDirectory());
  const events = await loadEvents(path.join(directory, "events"));
  const internal = await loadInternal(path.join(directory, "internal"));

  const byFingerprint = new Map<string, CatalogueSchema>();
  const bySubject = new Map<string, string>();
  const all: CatalogueSchema[] = [...[...events.values()].flatMap((family) => family.versions), ...internal.values()];
  for (const schema of all) {
    const other = byFingerprint.get(schema.fingerprint);
    if (other) {
      throw new SchemaCatalogueError(schema.file, `reads exactly like ${other.file}; a new version must change the shape`);
    }
    byFingerprint.set(schema.fingerprint, schema);
    const owner = schema.kind === "event" ? schema.eventType : `internal/${schema.name}`;
    const subjectOwner = bySubject.get(schema.subject);
    if (subjectOwner !== undefined && subjectOwner !== owner) {
      throw new SchemaCatalogueError(schema.file, `record name ${schema.subject} is already used by ${subjectOwner}`);
    }
    bySubject.set(schema.subject, owner);
  }

  // Avro named types are defined once per schema, so every file spells EventSource out; the
  // definitions must agree or two files would resolve the "same" enum differently.
  const eventSources = new Set([...events.values()].flatMap((family) => family.versions.map((v) => eventSourceDefinition(v.type))));
  if (eventSources.size > 1) {
    throw new SchemaCatalogueError(path.join(directory, "events"), "EventSource is not defined identically in every event schema");
  }

  return {
    directory,
    events,
    internal,
    eventSchema: (eventType, version) => events.get(eventType as EventType)?.versions.find((v) => v.version === version),
    internalSchema: (name) => internal.get(name),
    byFingerprint: (fingerprint) => byFingerprint.get(fingerprint),
    all: () => [...all],
  };
}

async function loadEvents(eventsDirectory: string): Promise<Map<EventType, EventSchemaFamily>> {
  const entries = await listDirectory(eventsDirectory);
  const families = new Map<EventType, EventSchemaFamily>();
  for (const entry of entries) {
    const typeDirectory = path.join(eventsDirectory, entry);
    if (!(await stat(typeDirectory)).isDirectory()) continue; // e.g. a README
    if (!isEventType(entry)) throw new SchemaCatalogueError(typeDirectory, `${entry} is not an event type of SPEC §2`);
    const versions: EventSchemaVersion[] = [];
    for (const file of await listDirectory(typeDirectory)) {
      if (!file.endsWith(".avsc")) continue;
      const match = VERSION_FILE.exec(file);
      const filePath = path.join(typeDirectory, file);
      if (!match) throw new SchemaCatalogueError(filePath, "event schema files are named v<version>.avsc");
      versions.push(await loadEventVersion(entry, Number(match[1]), filePath));
    }
    versions.sort((a, b) => a.version - b.version);
    versions.forEach((schema, index) => {
      if (schema.version !== index + 1) {
        throw new SchemaCatalogueError(schema.file, `versions of ${entry} must be v1, v2, … without gaps`);
      }
      if (schema.subject !== versions[0]!.subject) {
        throw new SchemaCatalogueError(schema.file, `record name must stay ${versions[0]!.subject} across versions`);
      }
    });
    const latest = versions[versions.length - 1];
    if (!latest) throw new SchemaCatalogueError(typeDirectory, "has no v1.avsc");
    families.set(entry, { eventType: entry, subject: latest.subject, versions, latest });
  }
  for (const eventType of EVENT_TYPES) {
    if (!families.has(eventType)) {
      throw new SchemaCatalogueError(path.join(eventsDirectory, eventType), `missing: every event type needs at least v1.avsc`);
    }
  }
  // Registration order follows the domain's list, so reports are stable.
  return new Map(EVENT_TYPES.map((eventType) => [eventType, families.get(eventType)!]));
}

async function loadEventVersion(eventType: EventType, version: number, file: string): Promise<EventSchemaVersion> {
  const { schema, text } = await readSchemaFile(file);
  const type = parseOrThrow(file, () => parseEventSchema(schema));
  const subject = recordSubject(file, type);
  const problems = envelopeProblems(type);
  if (problems.length > 0) throw new SchemaCatalogueError(file, `envelope: ${problems.join("; ")}`);
  const wrapped = wrappedUnionPaths(type);
  if (wrapped.length > 0) {
    throw new SchemaCatalogueError(file, `only ["null", T] unions are allowed (they read as plain JSON); see ${wrapped.join(", ")}`);
  }
  return { kind: "event", eventType, version, subject, file, text, schema, type, fingerprint: canonicalFingerprint(type) };
}

async function loadInternal(internalDirectory: string): Promise<Map<string, InternalSchema>> {
  const schemas = new Map<string, InternalSchema>();
  for (const file of await listDirectory(internalDirectory)) {
    if (!file.endsWith(".avsc")) continue;
    const filePath = path.join(internalDirectory, file);
    const { schema, text } = await readSchemaFile(filePath);
    const type = parseOrThrow(filePath, () => parseInternalSchema(schema));
    const name = file.slice(0, -".avsc".length);
    schemas.set(name, {
      kind: "internal",
      name,
      subject: recordSubject(filePath, type),
      file: filePath,
      text,
      schema,
      type,
      fingerprint: canonicalFingerprint(type),
    });
  }
  return schemas;
}

async function listDirectory(directory: string): Promise<string[]> {
  try {
    return (await readdir(directory)).sort();
  } catch (error) {
    throw new SchemaCatalogueError(directory, "cannot be read", { cause: error });
  }
}

async function readSchemaFile(file: string): Promise<{ schema: Record<string, unknown>; text: string }> {
  let schema: unknown;
  try {
    schema = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new SchemaCatalogueError(file, `is not readable JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
    throw new SchemaCatalogueError(file, "must hold one Avro record schema");
  }
  // Compact JSON of the parsed file: formatting edits to the file do not change what is
  // registered, so they do not create registry versions.
  return { schema: schema as Record<string, unknown>, text: JSON.stringify(schema) };
}

function parseOrThrow(file: string, parse: () => Type): Type {
  try {
    return parse();
  } catch (error) {
    throw new SchemaCatalogueError(file, `is not a valid Avro schema: ${(error as Error).message}`, { cause: error });
  }
}

function recordSubject(file: string, type: Type): string {
  if (!avro.Type.isType(type, "record") || !type.name) throw new SchemaCatalogueError(file, "must be a named record");
  if (!type.name.includes(".")) throw new SchemaCatalogueError(file, "the record needs a namespace (the subject is its full name)");
  return type.name;
}
