import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { EVENT_TYPES } from "@novatrade/domain";
import type { AdminContext } from "../admin-context.js";
import { changeEndpointStatus, endpointHealthBody } from "../endpoint-status.js";
import { organizationOf } from "../http-server.js";
import { BadRequestProblem } from "../problem.js";
import { createEndpointBody, endpointBody, endpointIdParams, endpointSchema, errorResponses, updateEndpointBody } from "../schemas.js";

const HOUR_MS = 3_600_000;
const withSecret = endpointSchema.extend({ secretId: z.string(), secret: z.string().describe("whsec_…: shown this once") });

/** Parses `If-Match: "<revision>"` (or a bare number); undefined when absent. */
function expectedRevision(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*(?:W\/)?"?([1-9][0-9]{0,15})"?\s*$/.exec(header);
  if (!match) throw new BadRequestProblem("if-match", 'must be the endpoint revision, e.g. "3"', "header");
  return Number(match[1]);
}

export const endpointRoutes: FastifyPluginAsyncZod<{ context: AdminContext }> = async (app, { context }) => {
  const org = { auth: "organization" as const };
  const ops = context.endpoints;
  const tags = ["endpoints"];

  app.post(
    "/v1/endpoints",
    { config: org, schema: { tags, summary: "Register an endpoint; the signing secret is in this answer only", body: createEndpointBody, response: { 201: withSecret, ...errorResponses } } },
    async (request, reply) => {
      const { config, secret } = await ops.create(organizationOf(request), request.body);
      return reply.code(201).send({ ...endpointBody(config), secretId: config.secrets[0]!.secretId, secret });
    },
  );
  app.get(
    "/v1/endpoints",
    { config: org, schema: { tags, summary: "List the organization's endpoints", response: { 200: z.object({ data: z.array(endpointSchema) }), ...errorResponses } } },
    async (request) => ({ data: ops.list(organizationOf(request)).map(endpointBody) }),
  );
  app.get(
    "/v1/endpoints/:endpointId",
    { config: org, schema: { tags, summary: "One endpoint", params: endpointIdParams, response: { 200: endpointSchema, ...errorResponses } } },
    async (request, reply) => {
      const config = ops.get(organizationOf(request), request.params.endpointId);
      return reply.header("etag", `"${config.revision}"`).send(endpointBody(config));
    },
  );
  app.patch(
    "/v1/endpoints/:endpointId",
    {
      config: org,
      schema: {
        tags,
        summary: "Change an endpoint (compare-and-set on its revision; If-Match: \"<revision>\" to insist on the one you read)",
        params: endpointIdParams,
        body: updateEndpointBody,
        response: { 200: endpointSchema, ...errorResponses },
      },
    },
    async (request) => endpointBody(await ops.update(organizationOf(request), request.params.endpointId, request.body, expectedRevision(request.headers["if-match"]))),
  );
  app.delete(
    "/v1/endpoints/:endpointId",
    { config: org, schema: { tags, summary: "Delete an endpoint", params: endpointIdParams, response: { 204: z.null().describe("deleted"), ...errorResponses } } },
    async (request, reply) => {
      await ops.remove(organizationOf(request), request.params.endpointId);
      return reply.code(204).send(null);
    },
  );
  for (const [action, status] of [
    ["pause", "PAUSED"],
    ["resume", "ACTIVE"],
  ] as const) {
    app.post(
      `/v1/endpoints/:endpointId/${action}`,
      {
        config: org,
        schema: {
          tags,
          summary: action === "pause" ? "Pause: deliveries wait, none is dropped" : "Resume: waiting deliveries go out",
          params: endpointIdParams,
          body: z
            .object({ reason: z.string().max(500).optional().describe("why: shown in the endpoint's health with who paused it") })
            .strict()
            // No body at all stays valid: clients from before the reason send none.
            .nullish(),
          response: { 200: endpointSchema, ...errorResponses },
        },
      },
      async (request) => {
        const caller = request.caller!;
        const actor = { kind: caller.kind, name: caller.name };
        return endpointBody(await changeEndpointStatus(context, organizationOf(request), request.params.endpointId, status, actor, request.body?.reason ?? null));
      },
    );
  }
  const instant = z.string().nullable();
  app.get(
    "/v1/endpoints/:endpointId/health",
    {
      config: org,
      schema: {
        tags,
        summary: "Health: consecutive failures, failing since, who paused it and why, attempts per hour over the last 24 h",
        params: endpointIdParams,
        response: {
          200: z.object({
            endpointId: z.string(),
            status: z.string(),
            consecutiveFailures: z.number().int(),
            failingSince: instant,
            lastSuccessAt: instant,
            lastFailureAt: instant,
            lastStatusCode: z.number().int().nullable(),
            lastError: z.string().nullable(),
            pausedBy: z
              .object({ kind: z.enum(["operator", "organization", "auto-pause", "unknown"]), name: z.string(), reason: z.string().nullable(), at: instant })
              .nullable()
              .describe("null while ACTIVE; auto-pause: the dispatcher, with its rule as the reason"),
            last24h: z.array(z.object({ hour: z.string(), succeeded: z.number().int(), failed: z.number().int() })),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => endpointHealthBody(context, organizationOf(request), request.params.endpointId),
  );
  app.post(
    "/v1/endpoints/:endpointId/test",
    {
      config: org,
      schema: {
        tags,
        summary: "Send a sample event of a type to this endpoint only (event id evt_test…, delivery marked tst_…)",
        params: endpointIdParams,
        body: z.object({ type: z.enum(EVENT_TYPES as unknown as [string, ...string[]]) }).strict(),
        response: { 202: z.object({ eventId: z.string(), deliveryId: z.string(), schemaVersion: z.number().int() }), ...errorResponses },
      },
    },
    async (request, reply) => reply.code(202).send(await ops.sendTestEvent(organizationOf(request), request.params.endpointId, request.body.type)),
  );
  app.post(
    "/v1/endpoints/:endpointId/rotate-secret",
    {
      config: org,
      schema: {
        tags,
        summary: "Add a new signing secret (in this answer only); the old one keeps signing for the overlap (24 h by default)",
        params: endpointIdParams,
        body: z
          .object({ overlapHours: z.number().min(0).max(720).optional() })
          .strict()
          .default({}),
        response: { 200: withSecret, ...errorResponses },
      },
    },
    async (request) => {
      const hours = request.body.overlapHours;
      const rotated = await ops.rotateSecret(organizationOf(request), request.params.endpointId, hours === undefined ? undefined : Math.round(hours * HOUR_MS));
      return { ...endpointBody(rotated.config), secretId: rotated.secretId, secret: rotated.secret };
    },
  );
};
