import { describe, expect, it } from "vitest";
import { parseEventSchema, parseInternalSchema } from "./avro-types.js";
import { parseIsoInstant } from "./timestamp-millis-iso-type.js";

const record = (logical: boolean) => ({
  type: "record",
  name: "com.example.At",
  fields: [
    { name: "at", type: logical ? { type: "long", logicalType: "timestamp-millis" } : "long" },
    { name: "maybe", type: ["null", logical ? { type: "long", logicalType: "timestamp-millis" } : "long"], default: null },
  ],
});

describe("timestamp-millis in event schemas", () => {
  const type = parseEventSchema(record(true));

  it("is an ISO string in JSON form and a long of epoch milliseconds in Avro", () => {
    const buffer = type.toBuffer({ at: "2026-04-22T10:30:00Z", maybe: "2026-04-22T10:30:00.123Z" });
    const asLongs = parseInternalSchema(record(false)).fromBuffer(buffer);
    expect(asLongs.at).toBe(Date.UTC(2026, 3, 22, 10, 30, 0));
    expect(asLongs.maybe).toBe(Date.UTC(2026, 3, 22, 10, 30, 0, 123));
    expect({ ...type.fromBuffer(buffer) }).toEqual({ at: "2026-04-22T10:30:00.000Z", maybe: "2026-04-22T10:30:00.123Z" });
  });

  it("keeps null in a nullable instant", () => {
    expect(type.fromBuffer(type.toBuffer({ at: "2026-04-22T10:30:00Z", maybe: null })).maybe).toBeNull();
  });

  it("drops digits below the millisecond", () => {
    expect(type.fromBuffer(type.toBuffer({ at: "2026-04-22T10:30:00.123456Z" })).at).toBe("2026-04-22T10:30:00.123Z");
  });

  it.each([1776853800000, "2026-04-22 10:30:00Z", "2026-04-22T10:30:00+02:00", "2026-02-30T10:00:00Z", "", null])(
    "rejects %j",
    (value) => {
      expect(type.isValid({ at: value })).toBe(false);
      expect(() => type.toBuffer({ at: value })).toThrow();
    },
  );

  it("resolves from a writer that carries plain longs (a schema parsed without logical types)", () => {
    const writer = parseInternalSchema(record(false));
    const buffer = writer.toBuffer({ at: Date.UTC(2026, 3, 22), maybe: Date.UTC(2026, 3, 23) });
    const value = type.fromBuffer(buffer, type.createResolver(writer));
    expect({ ...value }).toEqual({ at: "2026-04-22T00:00:00.000Z", maybe: "2026-04-23T00:00:00.000Z" });
  });
});

describe("parseIsoInstant", () => {
  it("parses UTC instants with or without fractions", () => {
    expect(parseIsoInstant("2026-04-22T10:30:00Z")).toBe(Date.UTC(2026, 3, 22, 10, 30));
    expect(parseIsoInstant("2026-04-22T10:30:00.5Z")).toBe(Date.UTC(2026, 3, 22, 10, 30, 0, 500));
  });

  it("refuses dates that Date.parse would roll over", () => {
    expect(Number.isNaN(Date.parse("2026-02-30T10:00:00Z"))).toBe(false);
    expect(parseIsoInstant("2026-02-30T10:00:00Z")).toBeUndefined();
  });
});
