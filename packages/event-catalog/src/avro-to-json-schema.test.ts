import { describe, expect, test } from "vitest";
import { avroToJsonSchema, UnsupportedAvroError } from "./avro-to-json-schema.js";

/** A record with one field of `type`, converted; returns that field's JSON Schema. */
function fieldSchema(type: unknown, doc?: string): Record<string, unknown> {
  const converted = avroToJsonSchema({ type: "record", name: "T", namespace: "n", fields: [{ name: "f", type, ...(doc ? { doc } : {}) }] });
  return (converted.properties as Record<string, Record<string, unknown>>).f!;
}

describe("avroToJsonSchema", () => {
  test.each([
    ["string", { type: "string" }],
    ["boolean", { type: "boolean" }],
    ["int", { type: "integer", format: "int32" }],
    ["long", { type: "integer", format: "int64" }],
    ["double", { type: "number" }],
    [{ type: "long", logicalType: "timestamp-millis" }, { type: "string", format: "date-time" }],
    [["null", "string"], { type: ["string", "null"] }],
    [["null", "long"], { type: ["integer", "null"], format: "int64" }],
    [["null", { type: "long", logicalType: "timestamp-millis" }], { type: ["string", "null"], format: "date-time" }],
    [{ type: "array", items: "string" }, { type: "array", items: { type: "string" } }],
    [{ type: "map", values: "int" }, { type: "object", additionalProperties: { type: "integer", format: "int32" } }],
    [
      ["null", { type: "enum", name: "Color", symbols: ["RED", "BLUE"] }],
      { anyOf: [{ type: "string", title: "Color", enum: ["RED", "BLUE"] }, { type: "null" }] },
    ],
  ])("%j reads as %j", (avro, json) => {
    expect(fieldSchema(avro)).toEqual(json);
  });

  test("a field's doc becomes its description, followed by the doc of its enum", () => {
    expect(fieldSchema({ type: "enum", name: "E", doc: "UNKNOWN for values added later.", symbols: ["UNKNOWN", "A"] }, "Outcome.")).toEqual({
      description: "Outcome. UNKNOWN for values added later.",
      type: "string",
      title: "E",
      enum: ["UNKNOWN", "A"],
    });
  });

  test("a record's fields are all required (the body carries nulls too), nested records included, with their docs", () => {
    const schema = avroToJsonSchema({
      type: "record",
      name: "Outer",
      namespace: "com.x",
      doc: "the outer record",
      fields: [
        { name: "maybe", type: ["null", "string"], default: null },
        { name: "data", type: { type: "record", name: "Inner", fields: [{ name: "n", type: "int", doc: "a number" }] } },
      ],
    });
    expect(schema).toMatchObject({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      title: "Outer",
      description: "the outer record",
      required: ["maybe", "data"],
      properties: { data: { type: "object", title: "Inner", required: ["n"], properties: { n: { type: "integer", description: "a number" } } } },
    });
  });

  test("a named type used again by name is written out again, short or full name", () => {
    const schema = avroToJsonSchema({
      type: "record",
      name: "R",
      namespace: "com.x",
      fields: [
        { name: "a", type: { type: "enum", name: "Side", symbols: ["BUY", "SELL"] } },
        { name: "b", type: "Side" },
        { name: "c", type: ["null", "com.x.Side"] },
      ],
    });
    const properties = schema.properties as Record<string, unknown>;
    expect(properties.b).toEqual(properties.a);
    expect(properties.c).toEqual({ anyOf: [properties.a, { type: "null" }] });
  });

  test.each([
    [{ type: "fixed", name: "F", size: 4 }, /fixed/],
    [{ type: "int", logicalType: "date" }, /logicalType date/],
    ["Nowhere", /unknown type Nowhere/],
  ])("%j is refused, naming the field", (avro, message) => {
    expect(() => fieldSchema(avro)).toThrow(UnsupportedAvroError);
    expect(() => fieldSchema(avro)).toThrow(message);
    expect(() => fieldSchema(avro)).toThrow(/^T\.f: /);
  });
});
