/**
 * Avro (as written in schemas/) to JSON Schema (draft 2020-12) as an integrator reads the JSON
 * body: what a receiver parses, not what travels on Kafka. Pure: no I/O.
 *
 * - `doc` becomes `description` (a field's doc first, then its type's).
 * - Every field is `required`: the body always carries every field, null included.
 * - `["null", T]` becomes `type: [T, "null"]` for a primitive T, `anyOf: [T, {type: null}]` otherwise.
 * - `long` with `logicalType: timestamp-millis` is a `string` in `date-time` format, because the
 *   envelope renders every instant as an ISO 8601 UTC string (TimestampMillisIsoType).
 * - A named type (record, enum) used again by name is written out again: the document stands
 *   alone, with no `$ref` for a reader to follow.
 */

/** A JSON Schema document or sub-schema. */
export type JsonSchema = { [keyword: string]: unknown };

type AvroSchema = string | AvroSchema[] | { [key: string]: unknown };

/** An Avro construct this converter does not know (fixed, unknown logical types...). */
export class UnsupportedAvroError extends Error {
  constructor(readonly path: string, what: string) {
    super(`${path}: ${what} has no JSON body form here`);
    this.name = "UnsupportedAvroError";
  }
}

const PRIMITIVES: Record<string, JsonSchema> = {
  string: { type: "string" },
  boolean: { type: "boolean" },
  int: { type: "integer", format: "int32" },
  long: { type: "integer", format: "int64" },
  float: { type: "number" },
  double: { type: "number" },
  bytes: { type: "string" },
  null: { type: "null" },
};

/** Converts one Avro record schema (a parsed .avsc) to a standalone JSON Schema. */
export function avroToJsonSchema(schema: Record<string, unknown>): JsonSchema {
  return { $schema: "https://json-schema.org/draft/2020-12/schema", ...convert(schema as AvroSchema, new Map(), String(schema.name ?? "record"), schema.namespace as string | undefined) };
}

function convert(schema: AvroSchema, named: Map<string, AvroSchema>, path: string, namespace: string | undefined): JsonSchema {
  if (typeof schema === "string") {
    const primitive = PRIMITIVES[schema];
    if (primitive) return { ...primitive };
    const reference = named.get(schema) ?? (namespace ? named.get(`${namespace}.${schema}`) : undefined);
    if (!reference) throw new UnsupportedAvroError(path, `the unknown type ${schema}`);
    return convert(reference, named, path, namespace);
  }
  if (Array.isArray(schema)) return union(schema, named, path, namespace);
  const type = schema.type as AvroSchema;
  const doc = typeof schema.doc === "string" ? { description: schema.doc } : {};
  if (schema.logicalType !== undefined) {
    if (schema.logicalType === "timestamp-millis" && type === "long") return { type: "string", format: "date-time", ...doc };
    throw new UnsupportedAvroError(path, `logicalType ${String(schema.logicalType)}`);
  }
  switch (type) {
    case "record": {
      const ownNamespace = nameOf(schema, namespace, named);
      const fields = (schema.fields as Array<Record<string, unknown>>) ?? [];
      const properties: Record<string, JsonSchema> = {};
      for (const field of fields) {
        const name = String(field.name);
        const converted = convert(field.type as AvroSchema, named, `${path}.${name}`, ownNamespace);
        properties[name] = typeof field.doc === "string" ? withDescription(converted, field.doc) : converted;
      }
      return { type: "object", title: String(schema.name), ...doc, properties, required: fields.map((field) => String(field.name)) };
    }
    case "enum":
      nameOf(schema, namespace, named);
      return { type: "string", title: String(schema.name), ...doc, enum: [...(schema.symbols as string[])] };
    case "array":
      return { type: "array", ...doc, items: convert(schema.items as AvroSchema, named, `${path}[]`, namespace) };
    case "map":
      return { type: "object", ...doc, additionalProperties: convert(schema.values as AvroSchema, named, `${path}{}`, namespace) };
    case "fixed":
      throw new UnsupportedAvroError(path, "fixed");
    default:
      return { ...convert(type, named, path, namespace), ...doc };
  }
}

/** Records a named type so a later use by name finds it; returns the namespace its fields inherit. */
function nameOf(schema: Record<string, unknown>, namespace: string | undefined, named: Map<string, AvroSchema>): string | undefined {
  const name = String(schema.name);
  const ownNamespace = name.includes(".") ? name.slice(0, name.lastIndexOf(".")) : ((schema.namespace as string | undefined) ?? namespace);
  const shortName = name.includes(".") ? name.slice(name.lastIndexOf(".") + 1) : name;
  named.set(ownNamespace ? `${ownNamespace}.${shortName}` : shortName, schema as AvroSchema);
  named.set(shortName, schema as AvroSchema);
  return ownNamespace;
}

function union(branches: AvroSchema[], named: Map<string, AvroSchema>, path: string, namespace: string | undefined): JsonSchema {
  const nullable = branches.includes("null");
  const others = branches.filter((branch) => branch !== "null").map((branch) => convert(branch, named, path, namespace));
  if (nullable && others.length === 1) {
    const only = others[0]!;
    // A primitive (date-time included: `format` applies to strings only) reads best as a type
    // list; an enum, object or array keeps its schema whole inside anyOf, so that adding null
    // to `type` cannot widen or contradict it.
    const scalar = Object.keys(only).every((key) => key === "type" || key === "format" || key === "description");
    if (scalar && typeof only.type === "string") return { ...only, type: [only.type, "null"] };
    return { anyOf: [only, { type: "null" }] };
  }
  return { anyOf: nullable ? [...others, { type: "null" }] : others };
}

/** A field's own doc first, then what its type says about itself. */
function withDescription(schema: JsonSchema, fieldDoc: string): JsonSchema {
  const typeDoc = typeof schema.description === "string" && schema.description !== fieldDoc ? ` ${schema.description}` : "";
  const { description: _typeDescription, ...rest } = schema;
  return { description: `${fieldDoc}${typeDoc}`, ...rest };
}
