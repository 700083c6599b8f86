import avro from "avsc";
import type { Type } from "avsc";

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/**
 * Parses an ISO 8601 UTC instant into milliseconds since the epoch, or returns undefined.
 * Stricter than Date.parse alone, which rolls `2026-02-30` over into March: the calendar
 * fields must survive the round trip.
 */
export function parseIsoInstant(value: unknown): number | undefined {
  if (typeof value !== "string" || !ISO_UTC.test(value)) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return undefined;
  return new Date(ms).toISOString().slice(0, 19) === value.slice(0, 19) ? ms : undefined;
}

/**
 * avsc logical type for `{"type": "long", "logicalType": "timestamp-millis"}` in event
 * schemas. On the wire an instant is a long of milliseconds since the epoch (what every Avro
 * library understands); in the JSON form it is an ISO 8601 UTC string, because that is what
 * the webhook envelope promises receivers (`createdAt` and every instant inside `data`).
 * Doing the conversion in the type, rather than by walking values in the codec, keeps it
 * right inside unions, arrays and through schema resolution.
 *
 * Decoding always yields `Date#toISOString()` form (`2026-04-22T10:30:00.000Z`); digits below
 * the millisecond are dropped on encoding.
 */
export class TimestampMillisIsoType extends avro.types.LogicalType {
  protected override _fromValue(value: number): string {
    return new Date(value).toISOString();
  }

  protected override _toValue(value: unknown): number {
    const ms = parseIsoInstant(value);
    // Throwing (rather than returning undefined) also stops toBuffer() from writing garbage
    // when a caller skipped validation; isValid() treats the throw as "invalid".
    if (ms === undefined) throw new TypeError(`not an ISO 8601 UTC timestamp: ${JSON.stringify(value)}`);
    return ms;
  }

  protected override _resolve(writer: Type): ((value: unknown) => unknown) | undefined {
    // Writer with the same logical type: its reader already produced the ISO string.
    if (writer instanceof TimestampMillisIsoType) return (value) => value;
    // Writer whose long was parsed without logical types (e.g. a schema fetched by a
    // registry client that was built without them): convert here.
    if (avro.Type.isType(writer, "long", "int")) return (value) => this._fromValue(value as number);
    return undefined;
  }
}
