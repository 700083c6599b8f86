/**
 * The compliance rollup for polling (SPEC §4): per organization and order, the latest status
 * and verdict from `compliance.status_changed` / `compliance.decision_made`. Pure: the projector
 * reads the current row, folds one event in, and writes the row back only when it changed, so
 * the organization's version moves exactly when one of its rows does.
 */

export interface ComplianceRow {
  organizationUuid: string;
  orderId: string;
  orderReference: string | null;
  /** Latest compliance status; null until a status_changed is seen. */
  status: string | null;
  statusEventId: string | null;
  /** When the status changed, epoch milliseconds. */
  statusChangedAt: number | null;
  /** Final verdict; null until a decision_made is seen. */
  verdict: string | null;
  decisionEventId: string | null;
  /** When the verdict was made, epoch milliseconds. */
  decidedAt: number | null;
  /** The newest event the row reflects, and its time (epoch milliseconds). */
  asOfEventId: string;
  asOfAt: number;
}

/** The part of a compliance event the rollup reads (instants in epoch milliseconds). */
export type ComplianceInput =
  | { kind: "status"; eventId: string; organizationUuid: string; orderId: string; orderReference: string | null; status: string; at: number }
  | { kind: "decision"; eventId: string; organizationUuid: string; orderId: string; orderReference: string | null; verdict: string; at: number };

/** Newer by time, then by event id, so any reading order reaches the same row. */
function newer(at: number, eventId: string, currentAt: number | null, currentEventId: string | null): boolean {
  if (currentAt === null || currentEventId === null) return true;
  return at !== currentAt ? at > currentAt : eventId > currentEventId;
}

/** The row after `input`, or null when the event changes nothing (older, or seen already). */
export function applyComplianceEvent(current: ComplianceRow | null, input: ComplianceInput): ComplianceRow | null {
  const base: ComplianceRow = current ?? {
    organizationUuid: input.organizationUuid,
    orderId: input.orderId,
    orderReference: null,
    status: null,
    statusEventId: null,
    statusChangedAt: null,
    verdict: null,
    decisionEventId: null,
    decidedAt: null,
    asOfEventId: input.eventId,
    asOfAt: input.at,
  };
  let next: ComplianceRow;
  if (input.kind === "status") {
    if (!newer(input.at, input.eventId, current ? base.statusChangedAt : null, current ? base.statusEventId : null)) return null;
    next = { ...base, status: input.status, statusEventId: input.eventId, statusChangedAt: input.at };
  } else {
    if (!newer(input.at, input.eventId, current ? base.decidedAt : null, current ? base.decisionEventId : null)) return null;
    next = { ...base, verdict: input.verdict, decisionEventId: input.eventId, decidedAt: input.at };
  }
  if (input.orderReference !== null) next.orderReference = input.orderReference;
  if (current === null || newer(input.at, input.eventId, current.asOfAt, current.asOfEventId)) {
    next.asOfEventId = input.eventId;
    next.asOfAt = input.at;
  }
  return next;
}
