import { isMetaEventType, replayDeliveryId, type EventEnvelope } from "@novatrade/domain";
import type { DeliveryRequestRecord, RenderedEvent } from "@novatrade/event-codec";

/** What a replayed or test delivery needs beyond the original: the job and a fresh schedule. */
export interface ReplayStamp {
  /** Job id (`rpl_…`) or test id (`tst_…`); it becomes the delivery's replayId. */
  replayId: string;
  /** Epoch milliseconds. */
  now: number;
  /** Delays between attempts in milliseconds: the schedule in use now, not the original's. */
  retrySchedule: readonly number[];
}

/**
 * A delivery request that re-sends an earlier one: the same event id and body (receivers
 * deduplicate on the id), a delivery id of its own (derived from the replay, so a job resumed
 * after a restart writes the same ids again), attempt 1 on a fresh schedule, due now, and
 * marked with its replayId so its attempts show up as a replay. The sender treats it like any
 * new delivery: no sender change is needed.
 */
export function replayedRequest(original: DeliveryRequestRecord, stamp: ReplayStamp): DeliveryRequestRecord {
  return {
    ...original,
    deliveryId: replayDeliveryId(original.eventId, original.endpointId, stamp.replayId),
    attempt: 1,
    retrySchedule: [...stamp.retrySchedule],
    firstAttemptAt: null,
    notBefore: stamp.now,
    isMeta: isMetaEventType(original.eventType),
    replayId: stamp.replayId,
    createdAt: stamp.now,
  };
}

/** Headers every delivery-request record carries (the router's names). */
export function deliveryHeaders(request: DeliveryRequestRecord): Record<string, string> {
  return {
    "novatrade-delivery-id": request.deliveryId,
    "novatrade-event-id": request.eventId,
    "novatrade-event-type": request.eventType,
    ...(request.replayId ? { "novatrade-replay-id": request.replayId } : {}),
  };
}

/**
 * The delivery request of `rendered` for one endpoint, as the router writes it: attempt 1, due
 * `now`, on `retrySchedule`; `replayId` null for a live delivery.
 */
export function deliveryRequestFor(
  envelope: Pick<EventEnvelope, "id" | "type" | "organizationUuid" | "partnerUuid">,
  rendered: Pick<RenderedEvent, "schemaVersion" | "body">,
  target: { endpointId: string; deliveryId: string; replayId: string | null },
  stamp: Omit<ReplayStamp, "replayId">,
): DeliveryRequestRecord {
  return {
    deliveryId: target.deliveryId,
    eventId: envelope.id,
    eventType: envelope.type,
    endpointId: target.endpointId,
    organizationUuid: envelope.organizationUuid,
    partnerUuid: envelope.partnerUuid,
    schemaVersion: rendered.schemaVersion,
    body: rendered.body,
    attempt: 1,
    retrySchedule: [...stamp.retrySchedule],
    firstAttemptAt: null,
    notBefore: stamp.now,
    isMeta: isMetaEventType(envelope.type),
    replayId: target.replayId,
    createdAt: stamp.now,
  };
}
