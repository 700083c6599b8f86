import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { AdminContext } from "../admin-context.js";
import { organizationOf } from "../http-server.js";
import { BadRequestProblem, NotFoundProblem } from "../problem.js";
import { attemptSchema, deliverySchema, errorResponses, instantSchema, jobSchema, pageLimit } from "../schemas.js";
import { startDeliveryReplay } from "../replay-start.js";
import { jobBody } from "./job-body.js";

const deliveryParams = z.object({ deliveryId: z.string().min(1).max(100) }).strict();

/** Delivery history over the projector's tables, and the replay of one delivery. */
export const historyRoutes: FastifyPluginAsyncZod<{ context: AdminContext }> = async (app, { context }) => {
  const org = { auth: "organization" as const };
  const tags = ["history"];
  app.get(
    "/v1/deliveries",
    {
      config: org,
      schema: {
        tags,
        summary: "Deliveries, newest first, with cursor pagination",
        querystring: z
          .object({
            endpointId: z.string().min(1).max(100).optional(),
            eventId: z.string().min(1).max(100).optional(),
            eventType: z.string().min(1).max(100).optional(),
            status: z.enum(["SUCCEEDED", "FAILED_RETRYING", "FAILED_TERMINAL", "SKIPPED"]).optional(),
            from: instantSchema.optional().describe("first attempt at or after (ISO 8601)"),
            to: instantSchema.optional().describe("first attempt before (ISO 8601)"),
            cursor: z.string().max(500).optional(),
            limit: pageLimit(context.pageLimitMax),
          })
          .strict(),
        response: { 200: z.object({ data: z.array(deliverySchema), nextCursor: z.string().nullable() }), ...errorResponses },
      },
    },
    async (request) => {
      const query = request.query;
      if (query.from !== undefined && query.to !== undefined && query.from >= query.to) throw new BadRequestProblem("to", "must be after from", "querystring");
      const page = await context.history.deliveries({ organizationUuid: organizationOf(request), ...query });
      return { data: page.items, nextCursor: page.nextCursor };
    },
  );
  app.get(
    "/v1/deliveries/:deliveryId",
    {
      config: org,
      schema: { tags, summary: "One delivery with all its attempts", params: deliveryParams, response: { 200: deliverySchema.extend({ attemptList: z.array(attemptSchema) }), ...errorResponses } },
    },
    async (request) => {
      const delivery = await context.history.delivery(organizationOf(request), request.params.deliveryId);
      if (!delivery) throw new NotFoundProblem(`delivery ${request.params.deliveryId}`);
      const { organizationUuid: _organization, ...body } = delivery;
      return body;
    },
  );
  app.post(
    "/v1/deliveries/:deliveryId/replay",
    {
      config: org,
      schema: { tags: ["replay"], summary: "Replay one delivery now (a job)", params: deliveryParams, response: { 202: jobSchema, ...errorResponses } },
    },
    async (request, reply) => {
      const job = await startDeliveryReplay(context, organizationOf(request), request.params.deliveryId);
      return reply.code(202).header("location", `/v1/replays/${job.jobId}`).send(jobBody(job));
    },
  );
};
