import avro from "avsc";
import type { Type, types } from "avsc";
import { EVENT_SOURCES } from "@novatrade/domain";

/**
 * The envelope fields every event schema starts with, in order (SPEC §2). Kept next to the
 * check so a change to the envelope is one edit here plus one in the domain package.
 */
export const ENVELOPE_FIELDS = [
  "id",
  "type",
  "schemaVersion",
  "source",
  "createdAt",
  "organizationUuid",
  "partnerUuid",
  "data",
] as const;

/**
 * Returns what is wrong with an event schema's envelope, or an empty list. The envelope is a
 * contract with every receiver, so each schema file must spell it exactly: same fields, same
 * order (the JSON body follows it), same Avro types, and the one shared EventSource enum.
 */
export function envelopeProblems(type: Type): string[] {
  if (!avro.Type.isType(type, "record")) return ["an event schema must be a record"];
  const fields = (type as types.RecordType).fields;
  const problems: string[] = [];
  const names = fields.map((field) => field.name);
  if (names.join(",") !== ENVELOPE_FIELDS.join(",")) {
    problems.push(`fields must be exactly [${ENVELOPE_FIELDS.join(", ")}], found [${names.join(", ")}]`);
  }
  const field = (name: string) => fields.find((candidate) => candidate.name === name);
  const expectTypeName = (name: string, typeName: string) => {
    const found = field(name);
    if (found && found.type.typeName !== typeName) {
      problems.push(`${name} must be ${typeName}, found ${found.type.typeName}`);
    }
  };
  expectTypeName("id", "string");
  expectTypeName("type", "string");
  expectTypeName("schemaVersion", "int");
  expectTypeName("createdAt", "logical:timestamp-millis");
  expectTypeName("organizationUuid", "string");
  expectTypeName("data", "record");

  const source = field("source");
  if (source) {
    const enumType = source.type as types.EnumType & { default?: string };
    if (source.type.typeName !== "enum" || !String(enumType.name).endsWith(".EventSource")) {
      problems.push("source must be the enum EventSource");
    } else {
      if (enumType.symbols.join(",") !== EVENT_SOURCES.join(",")) {
        problems.push(`EventSource symbols must be [${EVENT_SOURCES.join(", ")}]`);
      }
      // A default would let a reader turn a future source into a known one; API events are
      // never delivered (no echo), so misreading the source would leak them.
      if (enumType.default !== undefined) problems.push("EventSource must not have a default symbol");
    }
  }

  const partner = field("partnerUuid");
  if (partner) {
    const branches = avro.Type.isType(partner.type, "union")
      ? (partner.type as types.UnwrappedUnionType).types.map((branch) => branch.typeName)
      : [];
    if (branches.join(",") !== "null,string" || partner.defaultValue() !== null) {
      problems.push('partnerUuid must be ["null", "string"] with default null');
    }
  }
  return problems;
}

/**
 * Paths of wrapped unions in a type. A wrapped union reads as `{"branch.Name": value}`; the
 * JSON body must not carry Avro branch names, so event schemas only use `null | T` unions.
 */
export function wrappedUnionPaths(type: Type, path = "", seen = new Set<Type>()): string[] {
  if (seen.has(type)) return [];
  seen.add(type);
  const here = path || "(root)";
  if (avro.Type.isType(type, "union:wrapped")) return [here];
  if (avro.Type.isType(type, "union")) {
    return (type as types.UnwrappedUnionType).types.flatMap((branch) => wrappedUnionPaths(branch, path, seen));
  }
  if (avro.Type.isType(type, "record")) {
    return (type as types.RecordType).fields.flatMap((field) =>
      wrappedUnionPaths(field.type, path ? `${path}.${field.name}` : field.name, seen),
    );
  }
  if (avro.Type.isType(type, "array")) {
    return wrappedUnionPaths((type as types.ArrayType).itemsType as Type, `${path}[]`, seen);
  }
  if (avro.Type.isType(type, "map")) {
    return wrappedUnionPaths((type as types.MapType).valuesType as Type, `${path}{}`, seen);
  }
  if (avro.Type.isType(type, "logical")) {
    return wrappedUnionPaths((type as types.LogicalType).underlyingType, path, seen);
  }
  return [];
}

/** The `source` enum's definition as JSON, attributes included, to compare across files. */
export function eventSourceDefinition(type: Type): string {
  const source = (type as types.RecordType).fields.find((field) => field.name === "source");
  return JSON.stringify(source?.type.schema({ exportAttrs: true }) ?? null);
}
