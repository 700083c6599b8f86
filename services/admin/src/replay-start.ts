import { validateEventTypePatterns } from "@novatrade/domain";
import type { AdminContext } from "./admin-context.js";
import { BadRequestProblem, NotFoundProblem } from "./problem.js";
import type { ReplayJob } from "./replay-job-store.js";

type ReplayContext = Pick<AdminContext, "endpoints" | "history" | "jobs" | "runner">;

/**
 * Starts a replay of one delivery of the organization (a job); the API route and the portal
 * both start it here. @throws NotFoundProblem for another organization's delivery or endpoint
 */
export async function startDeliveryReplay(context: ReplayContext, organizationUuid: string, deliveryId: string): Promise<ReplayJob> {
  const delivery = await context.history.delivery(organizationUuid, deliveryId);
  if (!delivery) throw new NotFoundProblem(`delivery ${deliveryId}`);
  context.endpoints.get(organizationUuid, delivery.endpointId);
  const job = await context.jobs.create({ organizationUuid, endpointId: delivery.endpointId, params: { kind: "delivery", deliveryId: delivery.deliveryId } });
  context.runner.enqueue(job);
  return job;
}

/** Starts a replay of the deliveries written to an endpoint's topic in [from, to) (epoch milliseconds). */
export async function startRangeReplay(
  context: ReplayContext,
  organizationUuid: string,
  range: { endpointId: string; from: number; to: number; failedOnly: boolean; eventTypes?: string[] | undefined },
): Promise<ReplayJob> {
  const endpoint = context.endpoints.get(organizationUuid, range.endpointId);
  if (range.from >= range.to) throw new BadRequestProblem("to", "must be after from");
  const eventTypes = range.eventTypes === undefined ? null : validateEventTypePatterns(range.eventTypes);
  const job = await context.jobs.create({
    organizationUuid,
    endpointId: endpoint.endpointId,
    params: { kind: "range", from: range.from, to: range.to, failedOnly: range.failedOnly, eventTypes },
  });
  context.runner.enqueue(job);
  return job;
}
