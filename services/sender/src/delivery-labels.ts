import { isEventType } from "@novatrade/domain";
import type { DeliveryRequestRecord } from "@novatrade/event-codec";

/**
 * The `event_type` label of a delivery: one of the ten known types, or `other` for anything
 * else, so a producer inventing types cannot grow the label without bound.
 */
export function eventTypeLabel(eventType: string): string {
  return isEventType(eventType) ? eventType : "other";
}

/**
 * Seconds from the event's creation (the envelope's `createdAt`, what the producer stamped) to
 * `succeededAt` (epoch milliseconds); null for a replayed delivery, whose age says nothing
 * about the pipeline, or a body without a readable `createdAt`.
 */
export function endToEndSeconds(request: Pick<DeliveryRequestRecord, "body" | "replayId">, succeededAt: number): number | null {
  if (request.replayId) return null;
  const createdAt = topLevelCreatedAt(request.body);
  if (createdAt === null) return null;
  const created = Date.parse(createdAt);
  if (Number.isNaN(created)) return null;
  return Math.max(0, succeededAt - created) / 1000;
}

const CREATED_AT_KEY = '"createdAt":"';

/**
 * The envelope's `createdAt`. Parsing a whole body per delivery for one field was a visible
 * share of the sender's CPU, so the field is read in place when it is certainly the top-level
 * one: nothing before it opens an object, and the envelope's fields put it before `data`.
 * (Inside a JSON string a quote is escaped, so the key cannot be matched within a value.)
 * Anything else, e.g. a body formatted differently, is parsed.
 */
function topLevelCreatedAt(body: string): string | null {
  const at = body.indexOf(CREATED_AT_KEY);
  if (at > 0 && body.lastIndexOf("{", at) === 0 && body.lastIndexOf("[", at) === -1) {
    const start = at + CREATED_AT_KEY.length;
    const end = body.indexOf('"', start);
    const value = end > 0 ? body.slice(start, end) : "";
    if (!value.includes("\\")) return value;
  }
  try {
    const createdAt = (JSON.parse(body) as { createdAt?: unknown }).createdAt;
    return typeof createdAt === "string" ? createdAt : null;
  } catch {
    return null;
  }
}
