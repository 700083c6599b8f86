import avro from "avsc";
import type { types } from "avsc";
import { beforeAll, describe, expect, it } from "vitest";
import { EVENT_SOURCES, EVENT_TYPES, validateEnvelope } from "@novatrade/domain";
import { parseEventSchema } from "./avro-types.js";
import { ENVELOPE_FIELDS, envelopeProblems, wrappedUnionPaths } from "./envelope-schema-check.js";
import { loadSchemaCatalogue } from "./load-schema-catalogue.js";
import { sampleEvent } from "./sample-events.js";
import type { SchemaCatalogue } from "./schema-catalogue.js";
import { fullTransitiveProblems } from "./version-compatibility.js";

let catalogue: SchemaCatalogue;
beforeAll(async () => {
  catalogue = await loadSchemaCatalogue();
});

const fieldNames = (type: avro.Type) => (type as types.RecordType).fields.map((field) => field.name);

describe("the schema catalogue", () => {
  it("has a v1 for every event type of the domain, and nothing else", () => {
    expect([...catalogue.events.keys()]).toEqual([...EVENT_TYPES]);
    for (const family of catalogue.events.values()) {
      expect(family.versions[0]?.version).toBe(1);
      expect(family.versions.map((v) => v.version)).toEqual(family.versions.map((_, index) => index + 1));
    }
  });

  it("has a v2 of compliance.status_changed and of kyc.verification_completed", () => {
    expect(catalogue.eventSchema("compliance.status_changed", 2)).toBeDefined();
    expect(catalogue.eventSchema("kyc.verification_completed", 2)).toBeDefined();
  });

  it("names subjects after the record (RecordNameStrategy), one per event type", () => {
    expect(catalogue.events.get("compliance.status_changed")?.subject).toBe("com.novatrade.events.ComplianceStatusChanged");
    const subjects = [...catalogue.events.values()].map((family) => family.subject);
    expect(new Set(subjects).size).toBe(EVENT_TYPES.length);
    for (const family of catalogue.events.values()) {
      for (const version of family.versions) expect(version.subject).toBe(family.subject);
    }
  });

  it("spells the envelope of the domain in every event schema", () => {
    // The domain decides the envelope; its validated form lists the fields in order.
    const domainFields = Object.keys(validateEnvelope(sampleEvent("compliance.status_changed")));
    expect([...ENVELOPE_FIELDS]).toEqual(domainFields);
    for (const family of catalogue.events.values()) {
      for (const version of family.versions) {
        expect(fieldNames(version.type), version.file).toEqual(domainFields);
        expect(envelopeProblems(version.type), version.file).toEqual([]);
        const source = (version.type as types.RecordType).field("source").type as types.EnumType;
        expect(source.name).toBe("com.novatrade.events.EventSource");
        expect(source.symbols).toEqual([...EVENT_SOURCES]);
      }
    }
  });

  it("keeps every version of a type readable by every other (what FULL_TRANSITIVE demands)", () => {
    for (const family of catalogue.events.values()) expect(fullTransitiveProblems(family)).toEqual([]);
  });

  it("gives compliance.status_changed v1's status enum a default, so v1 readers survive new symbols", () => {
    const data = (catalogue.eventSchema("compliance.status_changed", 1)!.schema.fields as { name: string; type: unknown }[])
      .find((field) => field.name === "data")!.type as { fields: { name: string; type: unknown }[] };
    const fromStatus = data.fields.find((field) => field.name === "fromStatus")!.type as [string, { default?: string; symbols: string[] }];
    expect(fromStatus[1].default).toBe("UNKNOWN");
    expect(fromStatus[1].symbols).toContain("UNKNOWN");
  });

  it("has the internal record schemas by name", () => {
    expect([...catalogue.internal.keys()].sort()).toEqual(["dead-letter", "delivery-outcome", "delivery-request", "endpoint-config"]);
    expect(catalogue.internalSchema("delivery-request")?.subject).toBe("com.novatrade.internal.DeliveryRequest");
  });

  it("registers text that is the compact JSON of the file, byte-stable across loads", async () => {
    const again = await loadSchemaCatalogue({ directory: catalogue.directory });
    expect(again.all().map((schema) => schema.text)).toEqual(catalogue.all().map((schema) => schema.text));
    for (const schema of catalogue.all()) expect(schema.text).toBe(JSON.stringify(JSON.parse(schema.text)));
  });

  it("finds schemas by canonical fingerprint, whatever the docs and defaults", () => {
    const v2 = catalogue.eventSchema("kyc.verification_completed", 2)!;
    const plain = avro.Type.forSchema(JSON.parse(v2.text)); // no logical types, as the registry client builds it
    expect(catalogue.byFingerprint(plain.fingerprint("sha256").toString("hex"))).toBe(v2);
  });
});

describe("envelope checks", () => {
  const envelope = (overrides: Record<string, unknown> = {}) => ({
    type: "record",
    name: "com.novatrade.events.Bad",
    fields: [
      { name: "id", type: "string" },
      { name: "type", type: "string" },
      { name: "schemaVersion", type: "int" },
      { name: "source", type: { type: "enum", name: "EventSource", symbols: ["API", "WEB_APP", "SYSTEM"] } },
      { name: "createdAt", type: { type: "long", logicalType: "timestamp-millis" } },
      { name: "organizationUuid", type: "string" },
      { name: "partnerUuid", type: ["null", "string"], default: null },
      { name: "data", type: { type: "record", name: "BadData", fields: [] } },
    ].map((field) => (field.name in overrides ? { ...field, type: overrides[field.name] } : field)),
  });

  it("accepts the envelope as specified", () => {
    expect(envelopeProblems(parseEventSchema(envelope()))).toEqual([]);
  });

  it.each([
    ["createdAt", "long", "createdAt must be logical:timestamp-millis"],
    ["schemaVersion", "long", "schemaVersion must be int"],
    ["source", { type: "enum", name: "EventSource", symbols: ["API", "SYSTEM"] }, "EventSource symbols"],
    ["source", { type: "enum", name: "EventSource", symbols: ["API", "WEB_APP", "SYSTEM"], default: "SYSTEM" }, "must not have a default"],
    ["partnerUuid", ["null", "int"], "partnerUuid must be"],
  ])("rejects %s declared as %j", (field, type, problem) => {
    expect(envelopeProblems(parseEventSchema(envelope({ [field]: type }))).join("; ")).toContain(problem);
  });

  it("finds wrapped unions, whose JSON form would carry Avro branch names", () => {
    const schema = envelope({
      data: { type: "record", name: "BadData", fields: [{ name: "either", type: ["string", "int", { type: "record", name: "R", fields: [] }] }] },
    });
    expect(wrappedUnionPaths(parseEventSchema(schema))).toEqual([]); // string|int|record is not ambiguous
    const ambiguous = envelope({
      data: {
        type: "record",
        name: "BadData",
        fields: [{ name: "either", type: [{ type: "record", name: "A", fields: [] }, { type: "record", name: "B", fields: [] }] }],
      },
    });
    expect(wrappedUnionPaths(parseEventSchema(ambiguous))).toEqual(["data.either"]);
  });
});
