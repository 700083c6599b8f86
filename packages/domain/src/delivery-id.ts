import { createHash } from "node:crypto";
import { ValidationError } from "./errors.js";

/**
 * Delivery ids are derived, not random: the router computes the same id for the same
 * (event, endpoint) after a restart or a rebalance, so a re-routed duplicate is recognised
 * downstream (projector upserts, sender dedupe) instead of becoming a second delivery.
 */
export const DELIVERY_ID_PREFIX = "dlv_";
const HEX_CHARS = 24; // 96 bits: collisions are not a practical concern at any realistic volume.

function digest(fields: readonly string[]): string {
  // JSON of an array is an unambiguous encoding: ("a.b", "c") and ("a", "b.c") differ, and the
  // replay variant (three fields) can never collide with an original delivery (two).
  return createHash("sha256").update(JSON.stringify(fields)).digest("hex").slice(0, HEX_CHARS);
}

function required(field: string, value: string): string {
  if (typeof value !== "string" || value === "") throw new ValidationError(field, "must be a non-empty string");
  return value;
}

/** The id of the delivery of `eventId` to `endpointId`: `dlv_` + 24 hex digits. */
export function deliveryId(eventId: string, endpointId: string): string {
  return DELIVERY_ID_PREFIX + digest([required("eventId", eventId), required("endpointId", endpointId)]);
}

/**
 * The id of a replayed delivery: distinct from the original and from other replays, but the same
 * every time replay `replayId` re-produces it, so a replay interrupted and resumed does not
 * duplicate. The event id in the body is unchanged, so receivers still dedupe on it.
 */
export function replayDeliveryId(eventId: string, endpointId: string, replayId: string): string {
  return (
    DELIVERY_ID_PREFIX +
    digest([required("eventId", eventId), required("endpointId", endpointId), required("replayId", replayId)])
  );
}

export function isDeliveryId(value: unknown): value is string {
  return typeof value === "string" && /^dlv_[0-9a-f]{24}$/.test(value);
}
