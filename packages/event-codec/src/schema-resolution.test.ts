import { beforeAll, describe, expect, it } from "vitest";
import { parseEventSchema } from "./avro-types.js";
import { loadSchemaCatalogue } from "./load-schema-catalogue.js";
import { sampleEvent } from "./sample-events.js";
import type { SchemaCatalogue } from "./schema-catalogue.js";

/** Avro schema resolution between catalogue versions, on parsed types only (no codec). */
let catalogue: SchemaCatalogue;
beforeAll(async () => {
  catalogue = await loadSchemaCatalogue();
});

const readAs = (eventType: "compliance.status_changed" | "kyc.verification_completed", writerVersion: number, readerVersion: number, value: unknown) => {
  const writer = catalogue.eventSchema(eventType, writerVersion)!.type;
  const reader = catalogue.eventSchema(eventType, readerVersion)!.type;
  return reader.fromBuffer(writer.toBuffer(value), reader.createResolver(writer));
};

describe("compliance.status_changed: v2 adds the status EXPIRED", () => {
  it("reads v2 data with the v1 schema, turning EXPIRED into v1's default symbol UNKNOWN", () => {
    const event = sampleEvent("compliance.status_changed", { version: 2 });
    expect(event.data.toStatus).toBe("EXPIRED");
    const asV1 = readAs("compliance.status_changed", 2, 1, event);
    expect(asV1.data.toStatus).toBe("UNKNOWN");
    expect(asV1.data.fromStatus).toBe("VALID"); // symbols v1 knows pass through
  });

  it("reads v1 data with the v2 schema unchanged", () => {
    const event = sampleEvent("compliance.status_changed", { version: 1 });
    expect(readAs("compliance.status_changed", 1, 2, event).data).toEqual(event.data);
  });

  it("could not be read by v1 without the enum default (why v1 carries one)", () => {
    // Same schema text, minus the default.
    const v1 = JSON.parse(catalogue.eventSchema("compliance.status_changed", 1)!.text.replace(',"default":"UNKNOWN"', ""));
    const withoutDefault = parseEventSchema(v1);
    expect(() => withoutDefault.createResolver(catalogue.eventSchema("compliance.status_changed", 2)!.type)).toThrow(/cannot read "com.novatrade.events.ComplianceStatus"/);
  });
});

describe("kyc.verification_completed: v2 adds the optional documentCountry", () => {
  it("fills the default (null) when reading v1 data as v2", () => {
    const event = sampleEvent("kyc.verification_completed", { version: 1 });
    const asV2 = readAs("kyc.verification_completed", 1, 2, event);
    expect(asV2.data.documentCountry).toBeNull();
    expect({ ...asV2.data, documentCountry: undefined }).toEqual({ ...event.data, documentCountry: undefined });
  });

  it("drops the field when reading v2 data as v1", () => {
    const event = sampleEvent("kyc.verification_completed", { version: 2 });
    const asV1 = readAs("kyc.verification_completed", 2, 1, event);
    expect(asV1.data).not.toHaveProperty("documentCountry");
    expect(asV1.data.verificationId).toBe(event.data.verificationId);
  });
});
