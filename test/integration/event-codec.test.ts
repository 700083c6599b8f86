import { randomUUID } from "node:crypto";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { test as base, describe, expect } from "vitest";
import { DecodeError, EVENT_TYPES, SchemaVersionUnavailableError } from "@novatrade/domain";
import {
  createSchemaRegistryAdmin,
  defaultSchemasDirectory,
  EventCodec,
  loadSchemaCatalogue,
  RecordCodec,
  registerSchemas,
  sampleEvent,
  sampleVersions,
  SchemaRegistrationError,
  toWireFormat,
  type SchemaCatalogue,
  type SchemaRegistryAdmin,
} from "@novatrade/event-codec";
import { infraEnv } from "../support/infra-env.js";

/**
 * The event codec against the real schema registry (Apicurio's Confluent-compatible API).
 * The registry keeps everything across runs, so each test registers a copy of schemas/ whose
 * namespaces carry a unique suffix: its own subjects, its own schema ids, removed afterwards.
 */

interface Scope {
  /** Copy of schemas/ with unique namespaces. */
  directory: string;
  catalogue: SchemaCatalogue;
  admin: SchemaRegistryAdmin;
  /** A fresh client each call: no schema cache shared with the writer. */
  newClient(): SchemaRegistry;
  /** Adds a file to the copy (relative to it) and reloads the catalogue. */
  addSchemaFile(relativePath: string, schema: unknown): Promise<SchemaCatalogue>;
}

const test = base.extend<{ scope: Scope }>({
  // eslint-disable-next-line no-empty-pattern
  scope: async ({}, use) => {
    const suffix = `it_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const directory = await mkdtemp(path.join(tmpdir(), "event-codec-it-"));
    await copyWithNamespaceSuffix(defaultSchemasDirectory(), directory, suffix);
    const admin = createSchemaRegistryAdmin({ url: infraEnv.schemaRegistryUrl });
    const scope: Scope = {
      directory,
      catalogue: await loadSchemaCatalogue({ directory }),
      admin,
      newClient: () => new SchemaRegistry({ host: infraEnv.schemaRegistryUrl, retry: { retries: 0 } }),
      addSchemaFile: async (relativePath, schema) => {
        await writeFile(path.join(directory, relativePath), JSON.stringify(schema, null, 2));
        scope.catalogue = await loadSchemaCatalogue({ directory });
        return scope.catalogue;
      },
    };
    await use(scope);
    await deleteSubjects(scope.catalogue.all().map((schema) => schema.subject));
    await rm(directory, { recursive: true, force: true });
  },
});

async function copyWithNamespaceSuffix(from: string, to: string, suffix: string): Promise<void> {
  await cp(from, to, { recursive: true });
  for (const entry of await readdir(to, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".avsc")) continue;
    const file = path.join(entry.parentPath, entry.name);
    const text = await readFile(file, "utf8");
    await writeFile(file, text.replace(/"namespace": "(com\.novatrade\.[a-z]+)"/g, `"namespace": "$1.${suffix}"`));
  }
}

/** Best effort: the registry is shared with other runs and people, keep it tidy. */
async function deleteSubjects(subjects: string[]): Promise<void> {
  for (const subject of new Set(subjects)) {
    const url = `${infraEnv.schemaRegistryUrl}/subjects/${encodeURIComponent(subject)}`;
    await fetch(url, { method: "DELETE" }).catch(() => undefined);
    await fetch(`${url}?permanent=true`, { method: "DELETE" }).catch(() => undefined);
  }
}

async function registryGet(pathAndQuery: string): Promise<unknown> {
  const response = await fetch(`${infraEnv.schemaRegistryUrl}${pathAndQuery}`);
  return response.json();
}

describe("event codec with the real schema registry", () => {
  test("registers every schema under its record name with FULL_TRANSITIVE, and a second run changes nothing", async ({ scope }) => {
    const first = await registerSchemas(scope.admin, scope.catalogue);
    expect(first).toHaveLength(scope.catalogue.all().length);
    expect(first.every((registration) => registration.created)).toBe(true);

    const statusChanged = scope.catalogue.events.get("compliance.status_changed")!;
    expect(statusChanged.subject).toMatch(/^com\.novatrade\.events\.it_[0-9a-f]+\.ComplianceStatusChanged$/);
    expect(await registryGet(`/config/${statusChanged.subject}`)).toEqual({ compatibilityLevel: "FULL_TRANSITIVE" });
    expect(await registryGet(`/subjects/${statusChanged.subject}/versions`)).toEqual([1, 2]);

    const second = await registerSchemas(scope.admin, scope.catalogue);
    expect(second.some((registration) => registration.created)).toBe(false);
    expect(second.map((r) => [r.subject, r.registryVersion, r.id])).toEqual(first.map((r) => [r.subject, r.registryVersion, r.id]));
    expect(await registryGet(`/subjects/${statusChanged.subject}/versions`)).toEqual([1, 2]);
  });

  test("round-trips every event type and version", async ({ scope }) => {
    const registrations = await registerSchemas(scope.admin, scope.catalogue);
    const writer = new EventCodec({ registry: scope.newClient(), catalogue: scope.catalogue });
    const reader = new EventCodec({ registry: scope.newClient(), catalogue: scope.catalogue });
    for (const type of EVENT_TYPES) {
      for (const version of sampleVersions(type)) {
        const event = sampleEvent(type, { version });
        const buffer = await writer.encode(event);
        const registered = registrations.find((r) => r.schema === type && r.catalogueVersion === version)!;
        expect(buffer.readInt32BE(1), `${type} v${version}`).toBe(registered.id);
        const decoded = await reader.decode(buffer);
        expect(decoded.envelope, `${type} v${version}`).toStrictEqual(event);
        expect(decoded.writerVersion).toBe(version);
      }
    }
  });

  test("renders a v2 event as v1 and a v1 event as v2", async ({ scope }) => {
    await registerSchemas(scope.admin, scope.catalogue);
    const writer = new EventCodec({ registry: scope.newClient(), catalogue: scope.catalogue });
    const reader = new EventCodec({ registry: scope.newClient(), catalogue: scope.catalogue });

    const v2 = await reader.decode(await writer.encode(sampleEvent("compliance.status_changed", { version: 2 })));
    const asV1 = reader.render(v2, [1]);
    expect(asV1.schemaVersion).toBe(1);
    expect(JSON.parse(asV1.body)).toMatchObject({ schemaVersion: 1, data: { toStatus: "UNKNOWN", fromStatus: "VALID" } });

    const v1 = await reader.decode(await writer.encode(sampleEvent("kyc.verification_completed", { version: 1 })));
    const asV2 = reader.render(v1, [1, 2]);
    expect(asV2.schemaVersion).toBe(2);
    expect(JSON.parse(asV2.body)).toMatchObject({ schemaVersion: 2, data: { documentCountry: null, identityStatus: "APPROVED" } });

    expect(() => reader.render(v1, [3])).toThrow(SchemaVersionUnavailableError);
  });

  test("round-trips internal records", async ({ scope }) => {
    await registerSchemas(scope.admin, scope.catalogue);
    const writer = new RecordCodec({ registry: scope.newClient(), catalogue: scope.catalogue });
    const reader = new RecordCodec({ registry: scope.newClient(), catalogue: scope.catalogue });
    const outcome = {
      deliveryId: "dlv_1",
      eventId: "evt_a1b2c3d4e5f6",
      eventType: "prospect.submitted",
      endpointId: "ep_1",
      organizationUuid: "550e8400-e29b-41d4-a716-446655440000",
      attempt: 0,
      result: "SKIPPED" as const,
      statusCode: null,
      latencyMs: null,
      responseBody: null,
      errorClass: "no_accepted_version",
      errorMessage: "prospect.submitted v1 cannot be rendered in any accepted version [2]",
      attemptedAt: 1_776_853_800_000,
      nextAttemptAt: null,
      replayId: null,
    };
    expect(await reader.decode("delivery-outcome", await writer.encode("delivery-outcome", outcome))).toStrictEqual(outcome);
  });

  test("rejects an unknown schema id with a DecodeError that is not retriable", async ({ scope }) => {
    const reader = new EventCodec({ registry: scope.newClient(), catalogue: scope.catalogue });
    const error = await reader.decode(toWireFormat(2_147_483_000, Buffer.from([0]))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as DecodeError).retriable).toBe(false);
    expect((error as Error).message).toMatch(/unknown schema id 2147483000/);
  });

  test("has an incompatible new version refused with a typed error naming subject and version", async ({ scope }) => {
    await registerSchemas(scope.admin, scope.catalogue);
    // A v2 of compliance.decision_made that turns orderId from a string into a long: neither
    // old nor new readers could read the other's data.
    const v1 = JSON.parse(scope.catalogue.eventSchema("compliance.decision_made", 1)!.text);
    const data = v1.fields.find((field: { name: string }) => field.name === "data").type;
    data.fields.find((field: { name: string }) => field.name === "orderId").type = "long";
    const catalogue = await scope.addSchemaFile("events/compliance.decision_made/v2.avsc", v1);

    const error = await registerSchemas(scope.admin, catalogue).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaRegistrationError);
    const subject = catalogue.events.get("compliance.decision_made")!.subject;
    expect(error).toMatchObject({ subject, version: 2, status: 409, retriable: false });
    expect((error as SchemaRegistrationError).registryMessage).toMatch(/incompatible/i);
    expect((error as Error).message).toContain(`${subject} v2`);
    expect(await registryGet(`/subjects/${subject}/versions`)).toEqual([1]);
  });
});
