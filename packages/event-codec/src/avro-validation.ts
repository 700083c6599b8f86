import avro from "avsc";
import type { Type, types } from "avsc";
import { ValidationError } from "@novatrade/domain";

/**
 * Checks a value against an avsc Type and throws a ValidationError naming the first wrong
 * field as a dotted path (`data.verdict`, `data.openOrderIds[2]`), so producers see what to
 * fix rather than avsc's "invalid record". Fields the schema does not declare are rejected
 * too: silently dropping them would lose data the producer meant to send.
 * @param prefix path of `value` inside the caller's object, e.g. `data`; empty for the root.
 */
export function assertValidAvro(type: Type, value: unknown, prefix = ""): void {
  let first: { path: string[]; value: unknown; type: Type } | undefined;
  const errorHook = (path: string[], invalid: unknown, invalidType: Type) => {
    first ??= { path, value: invalid, type: invalidType };
  };
  if (!type.isValid(value, { errorHook })) {
    const problem = first!;
    throw new ValidationError(joinPath(prefix, problem.path), describeProblem(problem.value, problem.type));
  }
  // avsc reports an undeclared field only as "this record is invalid", so find the field.
  first = undefined;
  if (!type.isValid(value, { errorHook, noUndeclaredFields: true })) {
    const problem = first!;
    const record = problem.type as types.RecordType;
    const declared = new Set(record.fields.map((field) => field.name));
    const extra = Object.keys(problem.value as object).find((key) => !declared.has(key)) ?? "(unknown)";
    throw new ValidationError(joinPath(prefix, [...problem.path, extra]), `is not a field of ${record.name ?? "this record"}`);
  }
}

function joinPath(prefix: string, path: string[]): string {
  let joined = prefix;
  for (const segment of path) {
    joined = /^[0-9]+$/.test(segment) ? `${joined}[${segment}]` : joined ? `${joined}.${segment}` : segment;
  }
  return joined || "(value)";
}

function describeProblem(value: unknown, type: Type): string {
  if (value === undefined) return "is required";
  const got = ` (got ${preview(value)})`;
  if (avro.Type.isType(type, "logical:timestamp-millis")) return `must be an ISO 8601 UTC timestamp such as 2026-04-22T10:30:00Z${got}`;
  if (avro.Type.isType(type, "enum")) return `must be one of ${(type as types.EnumType).symbols.join(", ")}${got}`;
  if (avro.Type.isType(type, "union")) {
    const branches = (type as types.UnwrappedUnionType).types.map((branch) => branchName(branch));
    return `must be ${branches.join(" or ")}${got}`;
  }
  return `must be ${branchName(type)}${got}`;
}

function branchName(type: Type): string {
  if (avro.Type.isType(type, "logical:timestamp-millis")) return "an ISO 8601 UTC timestamp";
  if (avro.Type.isType(type, "int")) return "an integer (32-bit)";
  if (avro.Type.isType(type, "long")) return "an integer";
  if (avro.Type.isType(type, "record")) return "an object";
  return type.typeName === "null" ? "null" : `a ${type.typeName}`;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
