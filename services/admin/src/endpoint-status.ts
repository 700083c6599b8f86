import type { EndpointConfig } from "@novatrade/endpoint-config";
import type { AdminContext } from "./admin-context.js";
import type { EndpointHealthView, HourlyAttempts } from "./endpoint-health-store.js";

/** Who asks for a pause or a resume: the kind of key and its name. */
export interface Actor {
  kind: "operator" | "organization";
  name: string;
}

/**
 * Pauses or resumes an endpoint and records who paused it. Only a pause that changed the
 * status is recorded (pausing a paused endpoint keeps the first pauser); a resume forgets it.
 * The API routes and the portal both come through here.
 */
export async function changeEndpointStatus(
  context: Pick<AdminContext, "endpoints" | "health">,
  organizationUuid: string,
  endpointId: string,
  status: "ACTIVE" | "PAUSED",
  actor: Actor,
  reason: string | null,
): Promise<EndpointConfig> {
  const before = context.endpoints.get(organizationUuid, endpointId);
  const after = await context.endpoints.setStatus(organizationUuid, endpointId, status);
  if (status === "ACTIVE") await context.health.clearPause(endpointId);
  else if (after.revision !== before.revision) await context.health.recordPause(endpointId, organizationUuid, { kind: actor.kind, name: actor.name, reason, at: after.updatedAt });
  return after;
}

/** An endpoint's health with its attempts per hour over the last 24 h, as the API shows it. */
export async function endpointHealthBody(context: Pick<AdminContext, "endpoints" | "health">, organizationUuid: string, endpointId: string) {
  const config = context.endpoints.get(organizationUuid, endpointId);
  const [health, hourly] = await Promise.all([context.health.health(endpointId, config.status), context.health.hourlyAttempts(endpointId)]);
  return healthBody(config, health, hourly);
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function healthBody(config: EndpointConfig, health: EndpointHealthView, hourly: HourlyAttempts[]) {
  return {
    endpointId: config.endpointId,
    status: config.status,
    consecutiveFailures: health.consecutiveFailures,
    failingSince: iso(health.failingSince),
    lastSuccessAt: iso(health.lastSuccessAt),
    lastFailureAt: iso(health.lastFailureAt),
    lastStatusCode: health.lastStatusCode,
    lastError: health.lastError,
    pausedBy: health.pausedBy && { ...health.pausedBy, at: iso(health.pausedBy.at) },
    last24h: hourly.map((entry) => ({ hour: new Date(entry.hour).toISOString(), succeeded: entry.succeeded, failed: entry.failed })),
  };
}

export type EndpointHealthBody = ReturnType<typeof healthBody>;
