import avro from "avsc";
import type { Schema, Type } from "avsc";
import { TimestampMillisIsoType } from "./timestamp-millis-iso-type.js";

/**
 * Builds the avsc Type of an event schema. Instants (`timestamp-millis`) become ISO strings,
 * the JSON form of the webhook envelope. Unions stay unwrapped (`null | T` reads as the value
 * or null), which is what receivers of the JSON body expect.
 */
export function parseEventSchema(schema: unknown): Type {
  return avro.Type.forSchema(schema as Schema, {
    logicalTypes: { "timestamp-millis": TimestampMillisIsoType },
    assertLogicalTypes: true,
    wrapUnions: "auto",
  });
}

/**
 * Builds the avsc Type of an internal record schema. Instants stay numbers of milliseconds
 * since the epoch: internal records are read by services that compare them with a clock in
 * milliseconds, not by people.
 */
export function parseInternalSchema(schema: unknown): Type {
  return avro.Type.forSchema(schema as Schema, { wrapUnions: "auto" });
}

/** Hex SHA-256 of the schema's Parsing Canonical Form: equal for schemas that read alike. */
export function canonicalFingerprint(type: Pick<Type, "fingerprint">): string {
  return type.fingerprint("sha256").toString("hex");
}
