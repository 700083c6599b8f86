import { withStatus, type EndpointConfig, type EndpointConfigPublisher, type EndpointDirectory } from "@novatrade/endpoint-config";

export type PauseResult =
  /** This call wrote the PAUSED revision. */
  | "paused"
  /** PAUSED at or after the triggering failure: by an earlier run of this pause (or by hand). */
  | "already_paused"
  /** PAUSED by hand before the triggering failure: that pause stands, no auto-pause happens. */
  | "paused_before"
  /** Changed after the failure that triggered the pause (resumed, edited): the pause is stale. */
  | "stale"
  /** DISABLED: nothing to pause. */
  | "not_active"
  /** Deleted or unknown. */
  | "missing";

export interface EndpointPauserDeps {
  directory: Pick<EndpointDirectory, "get">;
  publisher: Pick<EndpointConfigPublisher, "put">;
}

/**
 * THE one place where the projector writes endpoint configuration: an auto-pause. It reads the
 * current record and writes the next revision with status PAUSED, only if the record has not
 * changed since the failure that triggered the pause (`triggeredAt`, epoch milliseconds).
 *
 * The check-then-write is a compare-and-set on the revision as far as this process can make
 * one with the endpoint-config package as it is (a view of the compacted topic, then a put).
 * When the package offers `updateEndpoint(..., expectedRevision, change)`, this function
 * becomes a call to it with `current.revision` and its "changed concurrently" error maps to
 * `stale`. The record has no field for the pause reason; the reason travels in the
 * `webhook.endpoint_auto_paused` event and in endpoint_health.pause_reason.
 */
export async function pauseEndpoint(deps: EndpointPauserDeps, endpointId: string, triggeredAt: number, now: number): Promise<{ result: PauseResult; config?: EndpointConfig }> {
  const current = deps.directory.get(endpointId);
  if (!current) return { result: "missing" };
  if (current.status === "PAUSED") return { result: current.updatedAt >= triggeredAt ? "already_paused" : "paused_before", config: current };
  if (current.status !== "ACTIVE") return { result: "not_active", config: current };
  if (current.updatedAt > triggeredAt) return { result: "stale", config: current };
  // Never dated before the failure that caused it (the sender's clock may run ahead of ours):
  // a re-run, or a re-projection, recognises its own pause by that.
  const paused = withStatus(current, "PAUSED", Math.max(now, triggeredAt, current.updatedAt + 1));
  await deps.publisher.put(paused);
  return { result: "paused", config: paused };
}
