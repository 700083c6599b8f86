/** Who paused an endpoint, as the health view and the portal show it. */
export interface PausedBy {
  /** `operator` or `organization`: by hand, with a key of that kind; `auto-pause`: the dispatcher. */
  kind: "operator" | "organization" | "auto-pause" | "unknown";
  /** The key's name; "dispatcher" for an auto-pause. */
  name: string;
  reason: string | null;
  /** Epoch milliseconds; null when unknown. */
  at: number | null;
}

/** A pause by hand, as the admin recorded it (endpoint_pauses). */
export interface ManualPause {
  kind: "operator" | "organization";
  name: string;
  reason: string | null;
  at: number;
}

/** What the projector recorded of its last auto-pause (endpoint_health). */
export interface AutoPauseRecord {
  /** PENDING, DONE, SKIPPED or null. */
  state: string | null;
  reason: string | null;
  /** When the failure that triggered it happened, epoch milliseconds. */
  triggeredAt: number | null;
}

/**
 * Who paused a PAUSED endpoint. A pause by hand is recorded only when it changed the status and
 * is deleted by a resume, so a record present means the current pause is that one; otherwise a
 * carried-out auto-pause is the dispatcher's. Anything else (paused before pauses were
 * recorded) is said to be unknown rather than guessed.
 */
export function pauseAttribution(status: string, manual: ManualPause | null, auto: AutoPauseRecord | null): PausedBy | null {
  if (status === "ACTIVE") return null;
  if (manual) return { kind: manual.kind, name: manual.name, reason: manual.reason, at: manual.at };
  if (auto?.state === "DONE") return { kind: "auto-pause", name: "dispatcher", reason: auto.reason, at: auto.triggeredAt };
  return { kind: "unknown", name: "unknown", reason: null, at: null };
}
