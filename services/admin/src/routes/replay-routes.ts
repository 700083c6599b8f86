import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { AdminContext } from "../admin-context.js";
import { organizationOf } from "../http-server.js";
import { BadRequestProblem, NotFoundProblem } from "../problem.js";
import { errorResponses, instantSchema, jobSchema, pageLimit } from "../schemas.js";
import { startRangeReplay } from "../replay-start.js";
import { jobBody } from "./job-body.js";

const DAY_MS = 86_400_000;
/** Backfill reaches back this far at most: the domain topic's retention (31 days) covers it. */
const MAX_BACKFILL_DAYS = 30;

const replayBody = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("range"),
      endpointId: z.string().min(1).max(100),
      from: instantSchema.describe("records written to the delivery topic at or after (ISO 8601)"),
      to: instantSchema.describe("… and before (ISO 8601)"),
      failedOnly: z.boolean().default(false).describe("only deliveries that ended FAILED_TERMINAL"),
      eventTypes: z.array(z.string().min(1).max(100)).min(1).max(50).optional().describe("only these types or wildcards"),
    })
    .strict(),
  z
    .object({
      kind: z.literal("backfill"),
      endpointId: z.string().min(1).max(100),
      since: instantSchema.describe("re-route the organization's events since (ISO 8601, at most 30 days ago)"),
    })
    .strict(),
]);

/** Replay jobs: a time range of one endpoint, or a backfill of one endpoint from the domain topic. */
export const replayRoutes: FastifyPluginAsyncZod<{ context: AdminContext }> = async (app, { context }) => {
  const org = { auth: "organization" as const };
  const tags = ["replay"];
  app.post(
    "/v1/replays",
    {
      config: org,
      schema: {
        tags,
        summary: "Start a replay job (range: re-read the endpoint's delivery topic between two instants; backfill: re-route domain events since an instant)",
        body: replayBody,
        response: { 202: jobSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const organizationUuid = organizationOf(request);
      const body = request.body;
      let job;
      if (body.kind === "range") {
        job = await startRangeReplay(context, organizationUuid, body);
      } else {
        const endpoint = context.endpoints.get(organizationUuid, body.endpointId);
        if (body.since < Date.now() - MAX_BACKFILL_DAYS * DAY_MS) throw new BadRequestProblem("since", `must be within the last ${MAX_BACKFILL_DAYS} days`);
        job = await context.jobs.create({ organizationUuid, endpointId: endpoint.endpointId, params: { kind: "backfill", since: body.since } });
        context.runner.enqueue(job);
      }
      return reply.code(202).header("location", `/v1/replays/${job.jobId}`).send(jobBody(job));
    },
  );
  app.get(
    "/v1/replays",
    {
      config: org,
      schema: { tags, summary: "The organization's replay jobs, newest first", querystring: z.object({ limit: pageLimit(context.pageLimitMax) }).strict(), response: { 200: z.object({ data: z.array(jobSchema) }), ...errorResponses } },
    },
    async (request) => ({ data: (await context.jobs.list(organizationOf(request), request.query.limit)).map(jobBody) }),
  );
  app.get(
    "/v1/replays/:jobId",
    {
      config: org,
      schema: { tags, summary: "A replay job: state and scanned / re-queued / total", params: z.object({ jobId: z.string().min(1).max(100) }).strict(), response: { 200: jobSchema, ...errorResponses } },
    },
    async (request) => {
      const job = await context.jobs.get(organizationOf(request), request.params.jobId);
      if (!job) throw new NotFoundProblem(`replay job ${request.params.jobId}`);
      return jobBody(job);
    },
  );
};
