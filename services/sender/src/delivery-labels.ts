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
  let createdAt: unknown;
  try {
    createdAt = (JSON.parse(request.body) as { createdAt?: unknown }).createdAt;
  } catch {
    return null;
  }
  if (typeof createdAt !== "string") return null;
  const created = Date.parse(createdAt);
  if (Number.isNaN(created)) return null;
  return Math.max(0, succeededAt - created) / 1000;
}
