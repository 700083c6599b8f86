import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { EVENT_TYPES } from "@novatrade/domain";
import { sampleEvent, sampleVersions } from "@novatrade/event-codec";
import { buildEventCatalog, type CatalogSource } from "./event-catalog.js";

// The repository's own schemas and sample events: the catalog must describe exactly what a
// receiver gets, so every kept sample must validate against the schema generated for it.
const schemasDirectory = fileURLToPath(new URL("../../../schemas/events/", import.meta.url));
const sources: CatalogSource[] = EVENT_TYPES.map((eventType) => ({
  eventType,
  versions: readdirSync(`${schemasDirectory}${eventType}`)
    .filter((file) => /^v\d+\.avsc$/.test(file))
    .map((file) => {
      const version = Number(file.slice(1, -5));
      return { version, schema: JSON.parse(readFileSync(`${schemasDirectory}${eventType}/${file}`, "utf8")), example: sampleEvent(eventType, { version }) };
    }),
}));
const catalog = buildEventCatalog(sources);

function validator() {
  const ajv = new Ajv2020.default({ strict: true, allErrors: true });
  addFormats.default(ajv);
  return ajv;
}

describe("the event catalog of schemas/", () => {
  test("has every event type with every schema version that has a kept sample, oldest first", () => {
    expect(catalog.map((entry) => entry.type)).toEqual([...EVENT_TYPES]);
    for (const entry of catalog) {
      expect(entry.versions.map((version) => version.version)).toEqual(sampleVersions(entry.type as never).sort());
      expect(entry.latestVersion).toBe(Math.max(...entry.versions.map((version) => version.version)));
      expect(entry.description).toMatch(new RegExp(`^${entry.type.replace(".", "\\.")}: `));
    }
  });

  test("every example validates against the JSON Schema of its version (strict 2020-12)", () => {
    const ajv = validator();
    for (const entry of catalog) {
      for (const version of entry.versions) {
        const validate = ajv.compile(version.jsonSchema);
        expect(validate(version.example), `${entry.type} v${version.version}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      }
    }
  });

  test("the schemas refuse what a receiver never gets: an instant as a number, an unknown enum symbol, a missing field, another type or version", () => {
    const ajv = validator();
    const entry = catalog.find((candidate) => candidate.type === "kyc.verification_completed")!;
    const v2 = entry.versions.find((version) => version.version === 2)!;
    const validate = ajv.compile(v2.jsonSchema);
    const example = v2.example as { data: Record<string, unknown> } & Record<string, unknown>;
    const bad = [
      { ...example, createdAt: 1767000000000 },
      { ...example, data: { ...example.data, amlOutcome: "MAYBE" } },
      { ...example, data: { ...example.data, documentCountry: undefined } },
      { ...example, type: "kyc.vies_check_failed" },
      { ...example, schemaVersion: 1 },
      { ...example, createdAt: "yesterday" },
    ].map((body) => JSON.parse(JSON.stringify(body)));
    for (const body of bad) expect(validate(body), JSON.stringify(body).slice(0, 120)).toBe(false);
    // … and a null where the schema says nullable is fine.
    expect(validate({ ...example, partnerUuid: null, data: { ...example.data, documentCountry: null } })).toBe(true);
  });

  test("instants read as date-time strings, nullable fields as [T, null], docs as descriptions", () => {
    const schema = catalog.find((entry) => entry.type === "kyc.verification_completed")!.versions[1]!.jsonSchema as any;
    expect(schema.properties.createdAt).toMatchObject({ type: "string", format: "date-time", description: expect.stringContaining("When the event happened") });
    expect(schema.properties.partnerUuid).toMatchObject({ type: ["string", "null"] });
    expect(schema.properties.data.properties.amlOutcome).toMatchObject({ type: "string", enum: ["UNKNOWN", "CLEAR", "POTENTIAL_MATCH", "CONFIRMED_MATCH", "NOT_PERFORMED"] });
    expect(schema.properties.type).toMatchObject({ const: "kyc.verification_completed" });
    expect(schema.$id).toBe("urn:novatrade:event:kyc.verification_completed:v2");
  });
});
