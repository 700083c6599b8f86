import type { DeliveryOutcomeRecord, DeliveryRequestRecord, DeliveryResult } from "./internal-records.js";

/** What identifies the delivery an outcome is about. */
export type OutcomeSubject = Pick<DeliveryRequestRecord, "deliveryId" | "eventId" | "eventType" | "endpointId" | "organizationUuid"> & {
  replayId?: string | null;
};

/** What happened; every field left out is null in the record. */
export interface OutcomeDetails {
  /** 1-based attempt number; 0 when nothing was attempted (SKIPPED). */
  attempt: number;
  /** Epoch milliseconds. */
  attemptedAt: number;
  statusCode?: number | null;
  /** Milliseconds. */
  latencyMs?: number | null;
  responseBody?: string | null;
  errorClass?: string | null;
  errorMessage?: string | null;
  /** Epoch milliseconds. */
  nextAttemptAt?: number | null;
}

/**
 * THE builder of delivery-outcome records, for the router (SKIPPED at routing) and the sender
 * (attempts and skips), so every outcome has the same shape whoever writes it.
 */
export function deliveryOutcome(subject: OutcomeSubject, result: DeliveryResult, details: OutcomeDetails): DeliveryOutcomeRecord {
  return {
    deliveryId: subject.deliveryId,
    eventId: subject.eventId,
    eventType: subject.eventType,
    endpointId: subject.endpointId,
    organizationUuid: subject.organizationUuid,
    attempt: details.attempt,
    result,
    statusCode: details.statusCode ?? null,
    latencyMs: details.latencyMs ?? null,
    responseBody: details.responseBody ?? null,
    errorClass: details.errorClass ?? null,
    errorMessage: details.errorMessage ?? null,
    attemptedAt: details.attemptedAt,
    nextAttemptAt: details.nextAttemptAt ?? null,
    replayId: subject.replayId ?? null,
  };
}
