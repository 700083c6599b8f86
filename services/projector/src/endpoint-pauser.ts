import { ConcurrentEndpointChangeError, EndpointNotFoundError, updateEndpoint, withStatus, type EndpointConfig, type EndpointStore } from "@novatrade/endpoint-config";

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
  /** Endpoint configuration, read and written with compare-and-set on the revision. */
  store: EndpointStore;
}

/** Concurrent changes in a row after which the pause gives up for this round (the outbox retries it). */
const MAX_CONCURRENT_RETRIES = 3;

/**
 * THE one place where the projector writes endpoint configuration: an auto-pause. It writes the
 * next revision with status PAUSED, compare-and-set on the revision it read, and only if the
 * record has not changed since the failure that triggered the pause (`triggeredAt`, epoch
 * milliseconds). A concurrent change (a resume, an edit) is read again and judged again, so
 * a pause never overwrites a change it did not see. The record has no field for the pause
 * reason; the reason travels in the `webhook.endpoint_auto_paused` event and in
 * endpoint_health.pause_reason.
 */
export async function pauseEndpoint(deps: EndpointPauserDeps, endpointId: string, triggeredAt: number, now: number): Promise<{ result: PauseResult; config?: EndpointConfig }> {
  for (let round = 1; ; round++) {
    const { config: current } = await deps.store.latest(endpointId);
    if (!current) return { result: "missing" };
    if (current.status === "PAUSED") return { result: current.updatedAt >= triggeredAt ? "already_paused" : "paused_before", config: current };
    if (current.status !== "ACTIVE") return { result: "not_active", config: current };
    if (current.updatedAt > triggeredAt) return { result: "stale", config: current };
    try {
      // Never dated before the failure that caused it (the sender's clock may run ahead of ours):
      // a re-run, or a re-projection, recognises its own pause by that.
      const paused = await updateEndpoint(deps.store, endpointId, current.revision, (latest) =>
        withStatus(latest, "PAUSED", Math.max(now, triggeredAt, latest.updatedAt + 1)),
      );
      return { result: "paused", config: paused };
    } catch (error) {
      if (error instanceof EndpointNotFoundError) return { result: "missing" };
      if (!(error instanceof ConcurrentEndpointChangeError) || round >= MAX_CONCURRENT_RETRIES) throw error;
    }
  }
}
