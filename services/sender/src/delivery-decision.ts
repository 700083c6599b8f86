import type { DeliveryRequestRecord } from "@novatrade/event-codec";
import type { EndpointConfig } from "@novatrade/endpoint-config";

/** Where a delivery request was read: its endpoint's own delivery topic, or a shared retry tier. */
export type DeliverySource = "delivery" | "retry";

/** How long a delivery for an endpoint this sender has not heard of waits for it, in milliseconds. */
export const UNKNOWN_ENDPOINT_GRACE_MS = 60_000;
/** How often a partition held for an unknown endpoint looks again, in milliseconds. */
export const UNKNOWN_ENDPOINT_RECHECK_MS = 500;

/** What the sender knows about a request's endpoint when it decides. */
export interface EndpointView {
  /** The endpoint's configuration, undefined when this sender does not know it. */
  config: EndpointConfig | undefined;
  /** The endpoint was deleted (as opposed to not known yet). */
  deleted: boolean;
  /** When a request for this unknown endpoint was first seen, epoch milliseconds (undefined: now). */
  unknownSince: number | undefined;
  /** Jobs of the endpoint queued or running in this sender. */
  backlog: number;
  /** Most jobs an endpoint may have queued or running (SENDER_ENDPOINT_BACKLOG_LIMIT). */
  backlogLimit: number;
  /** The endpoint's lane starts nothing now (paused, or held for a fault of ours). */
  laneHeld: boolean;
}

export type HoldReason = "not-due" | "unknown-endpoint" | "endpoint-held" | "backlog-full";
export type SkipReason = "endpoint_disabled" | "endpoint_deleted" | "endpoint_unknown";

/**
 * What to do with one delivery request now:
 * - hold: leave it in its partition, which stops at it (re-read later; `recheckAfterMs` when time alone ends the hold);
 * - park: move it to its endpoint's own delivery topic, attempt number unchanged, so a shared retry
 *   partition never waits on behalf of one endpoint;
 * - skip: record it as SKIPPED (nobody to deliver to);
 * - dead-letter: refuse it (it can never be right);
 * - submit: queue its attempt in the endpoint's lane.
 */
export type Decision =
  | { action: "hold"; reason: HoldReason; recheckAfterMs: number | null }
  | { action: "park"; reason: "endpoint-held" | "backlog-full" }
  | { action: "skip"; reason: SkipReason }
  | { action: "dead-letter"; reason: "organization_mismatch" }
  | { action: "submit"; endpoint: EndpointConfig };

/**
 * The one admission rule of the sender, for first attempts and retries alike (pure: no I/O, time
 * passed in). `now` is epoch milliseconds.
 */
export function decide(request: DeliveryRequestRecord, source: DeliverySource, view: EndpointView, now: number): Decision {
  // Only retries wait for their due time. A first attempt is due when routed; comparing the
  // router's clock with this host's would hold every new delivery for the clock skew.
  if (request.attempt > 1 && request.notBefore > now) return { action: "hold", reason: "not-due", recheckAfterMs: request.notBefore - now };
  const endpoint = view.config;
  if (!endpoint) {
    if (view.deleted) return { action: "skip", reason: "endpoint_deleted" };
    // Registered a moment ago and not in this view yet: wait for it rather than skip a delivery
    // the router rightly made. Past the grace period it is an endpoint nobody knows.
    if (now - (view.unknownSince ?? now) < UNKNOWN_ENDPOINT_GRACE_MS) {
      return { action: "hold", reason: "unknown-endpoint", recheckAfterMs: UNKNOWN_ENDPOINT_RECHECK_MS };
    }
    return { action: "skip", reason: "endpoint_unknown" };
  }
  if (endpoint.status === "DISABLED") return { action: "skip", reason: "endpoint_disabled" };
  // Defence in depth: the router never routes across tenants; a request that does is forged or broken.
  if (endpoint.organizationUuid !== request.organizationUuid) return { action: "dead-letter", reason: "organization_mismatch" };
  // A paused endpoint, or one whose lane is full, waits on its own topic: a retry is moved there.
  const blocked = endpoint.status === "PAUSED" || view.laneHeld ? "endpoint-held" : view.backlog >= view.backlogLimit ? "backlog-full" : null;
  if (blocked !== null) return source === "retry" ? { action: "park", reason: blocked } : { action: "hold", reason: blocked, recheckAfterMs: null };
  return { action: "submit", endpoint };
}

/**
 * How long to wait in place for a retry that is due within `horizonMs` (null: not such a
 * retry). Waiting beats holding its partition, which seeks back and fetches the records again.
 */
export function dueSoonWaitMs(decision: Decision, horizonMs: number): number | null {
  if (decision.action !== "hold" || decision.reason !== "not-due" || decision.recheckAfterMs === null) return null;
  return decision.recheckAfterMs <= horizonMs ? decision.recheckAfterMs : null;
}
