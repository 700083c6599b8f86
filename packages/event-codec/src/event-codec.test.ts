import avro from "avsc";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  DecodeError,
  EVENT_TYPES,
  NovatradeError,
  SchemaVersionUnavailableError,
  ValidationError,
  type EventEnvelope,
} from "@novatrade/domain";
import { parseEventSchema } from "./avro-types.js";
import { SchemaRegistryError } from "./codec-errors.js";
import { EventCodec } from "./event-codec.js";
import { InMemorySchemaRegistry } from "./in-memory-schema-registry.js";
import { loadSchemaCatalogue } from "./load-schema-catalogue.js";
import { sampleEvent, sampleVersions } from "./sample-events.js";
import type { SchemaCatalogue } from "./schema-catalogue.js";
import { toWireFormat } from "./wire-format.js";

let catalogue: SchemaCatalogue;
let registry: InMemorySchemaRegistry;
let codec: EventCodec;

beforeAll(async () => {
  catalogue = await loadSchemaCatalogue();
});
beforeEach(() => {
  registry = new InMemorySchemaRegistry({ firstId: 100 }).addCatalogue(catalogue);
  codec = new EventCodec({ registry, catalogue });
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** A codec with cold caches, as in another process reading what `codec` wrote. */
const reader = () => new EventCodec({ registry, catalogue });

const catchError = async (work: () => unknown): Promise<unknown> => {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
};

/**
 * Counts resolvers built with `reader` as the reader schema. avsc freezes its types, so the
 * spy sits on the prototype and filters by `this` (nested types get resolvers of their own).
 */
const spyOnResolversBuiltFor = (reader: avro.Type) => {
  const spy = vi.spyOn(avro.Type.prototype, "createResolver");
  return () => spy.mock.contexts.filter((context) => context === reader).length;
};

const withData = (event: EventEnvelope, data: Record<string, unknown>): EventEnvelope => ({ ...event, data: { ...event.data, ...data } });

describe("encode and decode", () => {
  const cases = EVENT_TYPES.flatMap((type) => sampleVersions(type).map((version) => [type, version] as const));

  it.each(cases)("round-trips %s v%i", async (type, version) => {
    const event = sampleEvent(type, { version });
    const buffer = await codec.encode(event);
    const decoded = await reader().decode(buffer);
    expect(decoded.envelope).toStrictEqual(event);
    expect(decoded.writerVersion).toBe(version);
    expect(decoded.writerSchemaId).toBe(await registry.getRegistryIdBySchema(catalogue.eventSchema(type, version)!.subject, {
      type: "AVRO" as never,
      schema: catalogue.eventSchema(type, version)!.text,
    }));
  });

  it("writes Confluent wire format: magic byte 0, the schema's registry id, then Avro with instants as epoch-ms longs", async () => {
    const event = sampleEvent("compliance.decision_made");
    const buffer = await codec.encode(event);
    const schema = catalogue.eventSchema("compliance.decision_made", 1)!;
    expect(buffer[0]).toBe(0);
    expect(buffer.readInt32BE(1)).toBe(await registry.getRegistryIdBySchema(schema.subject, { type: "AVRO" as never, schema: schema.text }));
    const plain = avro.Type.forSchema(JSON.parse(schema.text)).fromBuffer(buffer.subarray(5));
    expect(plain.createdAt).toBe(Date.parse(event.createdAt));
    expect(plain.data.decidedAt).toBe(Date.parse(event.data.decidedAt as string));
    expect(plain.source).toBe("WEB_APP");
  });

  it("fills optional fields left out with their defaults", async () => {
    const { orderReference: _, fromStatus: __, missingRequirements: ___, ...required } = sampleEvent("compliance.status_changed").data;
    const { partnerUuid: ____, ...withoutPartner } = sampleEvent("compliance.status_changed");
    const decoded = await codec.decode(await codec.encode({ ...withoutPartner, data: required } as EventEnvelope));
    expect(decoded.envelope.partnerUuid).toBeNull();
    expect(decoded.envelope.data).toMatchObject({ orderReference: null, fromStatus: null, missingRequirements: [] });
  });

  it("normalises createdAt to millisecond ISO form", async () => {
    const event = { ...sampleEvent("prospect.submitted"), createdAt: "2026-04-22T10:30:00Z" };
    expect((await codec.decode(await codec.encode(event))).envelope.createdAt).toBe("2026-04-22T10:30:00.000Z");
  });

  it("fetches each writer schema from the registry once, however many messages use it", async () => {
    const buffers = await Promise.all([1, 2, 3, 4, 5].map((n) => codec.encode(sampleEvent("kyc.vies_check_failed", { seed: String(n) }))));
    const cold = reader();
    const before = registry.calls.getSchema;
    await Promise.all(buffers.map((buffer) => cold.decode(buffer)));
    await cold.decode(buffers[0]!);
    expect(registry.calls.getSchema - before).toBe(1);
  });

  it("looks up each schema's id once", async () => {
    await codec.encode(sampleEvent("kyc.vies_check_failed", { seed: "a" }));
    await codec.encode(sampleEvent("kyc.vies_check_failed", { seed: "b" }));
    expect(registry.calls.getRegistryIdBySchema).toBe(1);
  });
});

describe("encode validation", () => {
  it.each([
    ["an unknown verdict", withData(sampleEvent("compliance.decision_made"), { verdict: "MAYBE" }), "data.verdict", /one of VALID_EXPORT, VAT_APPLICABLE/],
    ["a missing required field", withData(sampleEvent("compliance.decision_made"), { orderId: undefined }), "data.orderId", /is required/],
    ["a wrong primitive", withData(sampleEvent("webhook.endpoint_auto_paused"), { consecutiveFailures: "20" }), "data.consecutiveFailures", /integer/],
    ["a bad instant", withData(sampleEvent("compliance.status_changed"), { changedAt: "yesterday" }), "data.changedAt", /ISO 8601/],
    ["an epoch number for an instant", withData(sampleEvent("compliance.status_changed"), { changedAt: 1776853800000 }), "data.changedAt", /ISO 8601/],
    ["a wrong array item", withData(sampleEvent("kyc.vies_check_failed"), { openOrderIds: ["ord_1", 2] }), "data.openOrderIds[1]", /string/],
    ["a wrong nullable", withData(sampleEvent("self_service_invitation.expired"), { buyerId: 7 }), "data.buyerId", /null or a string/],
    ["an undeclared field", withData(sampleEvent("prospect.submitted"), { website: "https://x.example" }), "data.website", /not a field/],
    ["a bad envelope field", { ...sampleEvent("prospect.submitted"), organizationUuid: "acme" }, "organizationUuid", /UUID/],
    ["an unknown schema version", { ...sampleEvent("prospect.submitted"), schemaVersion: 3 }, "schemaVersion", /no schema v3 \(known: 1\)/],
  ])("names the field for %s", async (_case, event, field, message) => {
    const error = await catchError(() => codec.encode(event as EventEnvelope));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect((error as Error).message).toMatch(message);
    expect(registry.calls.getRegistryIdBySchema).toBe(0); // validation comes before the registry
  });

  it("refuses a schema that is not registered, saying how to fix it", async () => {
    const empty = new EventCodec({ registry: new InMemorySchemaRegistry(), catalogue });
    const error = await catchError(() => empty.encode(sampleEvent("prospect.submitted")));
    expect(error).toBeInstanceOf(SchemaRegistryError);
    expect((error as SchemaRegistryError).retriable).toBe(false);
    expect((error as Error).message).toMatch(/com.novatrade.events.ProspectSubmitted v1 is not registered.*register-schemas/);
  });

  it("reports a registry outage as retriable, and asks again next time", async () => {
    registry.unavailable = true;
    const error = await catchError(() => codec.encode(sampleEvent("prospect.submitted")));
    expect(error).toBeInstanceOf(SchemaRegistryError);
    expect((error as SchemaRegistryError).retriable).toBe(true);
    registry.unavailable = false;
    await expect(codec.encode(sampleEvent("prospect.submitted"))).resolves.toBeInstanceOf(Buffer);
  });
});

describe("decode errors", () => {
  const expectDecodeError = async (buffer: Buffer, message: RegExp, retriable = false) => {
    const error = await catchError(() => reader().decode(buffer));
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as Error).message).toMatch(message);
    expect((error as DecodeError).retriable).toBe(retriable);
  };

  it("rejects a bad magic byte", async () => {
    const buffer = await codec.encode(sampleEvent("prospect.submitted"));
    buffer[0] = 1;
    await expectDecodeError(buffer, /magic byte 1/);
  });

  it("rejects a message shorter than the header", async () => {
    await expectDecodeError(Buffer.from([0, 0, 0]), /shorter than the 5-byte/);
  });

  it("rejects an unknown schema id", async () => {
    await expectDecodeError(toWireFormat(424242, Buffer.from([2, 4])), /unknown schema id 424242/);
  });

  it("says a registry outage is retriable (the event is not at fault)", async () => {
    const buffer = await codec.encode(sampleEvent("prospect.submitted"));
    registry.unavailable = true;
    await expectDecodeError(buffer, /could not fetch schema id/, true);
  });

  it("rejects corrupt Avro: truncated", async () => {
    const buffer = await codec.encode(sampleEvent("prospect.submitted"));
    await expectDecodeError(buffer.subarray(0, buffer.length - 4), /not valid Avro.*truncated/);
  });

  it("rejects corrupt Avro: trailing bytes", async () => {
    const buffer = await codec.encode(sampleEvent("prospect.submitted"));
    await expectDecodeError(Buffer.concat([buffer, Buffer.from([7])]), /not valid Avro.*trailing/);
  });

  it("rejects an internal record on the domain topic", async () => {
    const schema = catalogue.internalSchema("dead-letter")!;
    const id = registry.add(schema.subject, schema.text);
    await expectDecodeError(toWireFormat(id, Buffer.from([0])), /internal record, not an event/);
  });

  it("rejects an event whose type does not match its schema", async () => {
    const schema = catalogue.eventSchema("compliance.decision_made", 1)!;
    const id = await registry.getRegistryIdBySchema(schema.subject, { type: "AVRO" as never, schema: schema.text });
    const lying = { ...sampleEvent("compliance.decision_made"), type: "prospect.submitted" };
    const error = await catchError(() => reader().decode(toWireFormat(id, schema.type.toBuffer(lying))));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe("type");
  });
});

describe("render", () => {
  const decode = async (event: EventEnvelope) => reader().decode(await codec.encode(event));

  it("renders a v2 event as v1 through schema resolution (EXPIRED becomes UNKNOWN)", async () => {
    const r = reader();
    const decoded = await r.decode(await codec.encode(sampleEvent("compliance.status_changed", { version: 2 })));
    const rendered = r.render(decoded, [1]);
    expect(rendered.schemaVersion).toBe(1);
    expect(rendered.envelope.schemaVersion).toBe(1);
    expect(rendered.envelope.data.toStatus).toBe("UNKNOWN");
    expect(rendered.envelope.data.fromStatus).toBe("VALID");
    expect(rendered.envelope.createdAt).toBe("2026-04-22T10:30:00.000Z");
    expect(JSON.parse(rendered.body)).toStrictEqual(rendered.envelope);
  });

  it("renders a v1 event as v2, filling the new optional field's default", async () => {
    const r = reader();
    const event = sampleEvent("kyc.verification_completed", { version: 1 });
    const rendered = r.render(await r.decode(await codec.encode(event)), [1, 2]);
    expect(rendered.schemaVersion).toBe(2);
    expect(rendered.envelope).toStrictEqual({ ...event, schemaVersion: 2, data: { ...event.data, documentCountry: null } });
  });

  it("picks the highest accepted version it can produce, ignoring versions it does not have", async () => {
    const r = reader();
    const decoded = await r.decode(await codec.encode(sampleEvent("compliance.status_changed", { version: 1 })));
    expect(r.render(decoded, [3, 1, 2, 2]).schemaVersion).toBe(2);
  });

  it("returns the writer's form untouched when the writer's version is accepted", async () => {
    const r = reader();
    const decoded = await r.decode(await codec.encode(sampleEvent("compliance.status_changed", { version: 2 })));
    const rendered = r.render(decoded, [2, 1]);
    expect(rendered.envelope).toBe(decoded.envelope);
    expect(rendered.body).toBe(JSON.stringify(decoded.envelope));
  });

  it("keeps the envelope's field order in the body", async () => {
    const r = reader();
    const rendered = r.render(await r.decode(await codec.encode(sampleEvent("kyc.verification_completed", { version: 2 }))), [1]);
    expect(Object.keys(JSON.parse(rendered.body))).toEqual(["id", "type", "schemaVersion", "source", "createdAt", "organizationUuid", "partnerUuid", "data"]);
  });

  it("throws SchemaVersionUnavailableError when no accepted version can be produced", async () => {
    const r = reader();
    const decoded = await r.decode(await codec.encode(sampleEvent("prospect.submitted")));
    for (const accepted of [[], [2, 3], [0, -1, 1.5]]) {
      const error = await catchError(() => r.render(decoded, accepted));
      expect(error).toBeInstanceOf(SchemaVersionUnavailableError);
      expect(error).toMatchObject({ eventType: "prospect.submitted", writerVersion: 1, acceptedVersions: accepted });
    }
  });

  it("builds one resolver per (writer schema id, reader version), never per message", async () => {
    const r = reader();
    const v1 = catalogue.eventSchema("compliance.status_changed", 1)!.type;
    const createResolver = spyOnResolversBuiltFor(v1);
    for (const seed of ["a", "b", "c"]) {
      const decoded = await r.decode(await codec.encode(sampleEvent("compliance.status_changed", { version: 2, seed })));
      r.render(decoded, [1]);
      r.render(decoded, [1]);
    }
    expect(createResolver()).toBe(1);
  });

  it("remembers a pair that cannot be resolved instead of retrying it per message", async () => {
    // A producer's schema this build does not have, with verdict as a free string: v1's enum cannot read it.
    const v1 = catalogue.eventSchema("compliance.decision_made", 1)!;
    const foreign = JSON.parse(v1.text.replace(/"type":\{"type":"enum","name":"ComplianceVerdict"[^}]*\}/, '"type":"string"'));
    const foreignType = parseEventSchema(foreign);
    const id = registry.add(v1.subject, JSON.stringify(foreign));
    const r = reader();
    const createResolver = spyOnResolversBuiltFor(v1.type);
    for (const seed of ["a", "b"]) {
      const event = { ...sampleEvent("compliance.decision_made", { seed }), data: { ...sampleEvent("compliance.decision_made").data, verdict: "OTHER" } };
      const decoded = await r.decode(toWireFormat(id, foreignType.toBuffer(event)));
      expect(decoded.envelope.data.verdict).toBe("OTHER");
      expect(() => r.render(decoded, [1])).toThrow(SchemaVersionUnavailableError);
    }
    expect(createResolver()).toBe(1);
  });

  it("reads a newer producer's schema (unknown to this build) and renders it into the versions it has", async () => {
    // kyc.verification_completed "v3": v2 plus an optional field, registered by a newer producer.
    const v2 = catalogue.eventSchema("kyc.verification_completed", 2)!;
    const v3 = JSON.parse(v2.text);
    v3.fields.find((f: { name: string }) => f.name === "data").type.fields.push({ name: "livenessScore", type: ["null", "double"], default: null });
    const id = registry.add(v2.subject, JSON.stringify(v3));
    const event = { ...sampleEvent("kyc.verification_completed", { version: 2 }), schemaVersion: 3 };
    const bytes = parseEventSchema(v3).toBuffer({ ...event, data: { ...event.data, livenessScore: 0.97 } });
    const r = reader();
    const decoded = await r.decode(toWireFormat(id, bytes));
    expect(decoded.writerVersion).toBe(3);
    expect(decoded.envelope.createdAt).toBe(event.createdAt);
    const rendered = r.render(decoded, [3, 2, 1]);
    expect(rendered.schemaVersion).toBe(2);
    expect(rendered.envelope).toStrictEqual({ ...event, schemaVersion: 2 });
    expect(() => r.render(decoded, [3])).toThrow(SchemaVersionUnavailableError);
  });

  it("refuses an event that did not come from this codec's decode()", async () => {
    const decoded = await decode(sampleEvent("prospect.submitted"));
    expect(() => reader().render(decoded, [1])).toThrow(NovatradeError);
  });
});
