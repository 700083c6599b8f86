import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { AdminContext } from "../admin-context.js";
import { ifNoneMatchHits, strongEtag } from "../etag.js";
import { organizationOf } from "../http-server.js";
import { errorResponses, pageLimit } from "../schemas.js";

const rollupItem = z.object({
  orderId: z.string(),
  orderReference: z.string().nullable(),
  status: z.string().nullable(),
  statusEventId: z.string().nullable(),
  statusChangedAt: z.string().nullable(),
  verdict: z.string().nullable(),
  decisionEventId: z.string().nullable(),
  decidedAt: z.string().nullable(),
  asOfEventId: z.string(),
  asOfAt: z.string(),
});
const eventItem = z.object({
  object: z.literal("event"),
  id: z.string(),
  type: z.string(),
  created: z.number().int().describe("unix seconds"),
  schemaVersion: z.number().int(),
  source: z.string(),
  envelope: z.record(z.unknown()),
});
const notModified = z.null().describe("Not Modified: If-None-Match matched the current ETag");

/**
 * Reconciliation feeds (polling beside webhooks). Each page carries a strong ETag of exactly its
 * JSON; `If-None-Match` with it answers 304 and no body until something on the page changes.
 */
export const feedRoutes: FastifyPluginAsyncZod<{ context: AdminContext }> = async (app, { context }) => {
  const org = { auth: "organization" as const };
  const tags = ["feeds"];
  app.get(
    "/v1/compliance/rollup",
    {
      config: org,
      schema: {
        tags,
        summary: "Latest compliance state per order of the organization",
        querystring: z.object({ cursor: z.string().max(500).optional(), limit: pageLimit(context.pageLimitMax) }).strict(),
        response: { 200: z.object({ object: z.literal("list"), data: z.array(rollupItem), has_more: z.boolean(), next_cursor: z.string().nullable() }), 304: notModified, ...errorResponses },
      },
    },
    async (request, reply) => {
      const page = await context.feeds.rollup(organizationOf(request), request.query.limit, request.query.cursor);
      const body = { object: "list" as const, data: page.items, has_more: page.nextCursor !== null, next_cursor: page.nextCursor };
      const etag = strongEtag(body);
      reply.header("etag", etag).header("cache-control", "no-cache");
      if (ifNoneMatchHits(request.headers["if-none-match"], etag)) return reply.code(304).send(null);
      return body;
    },
  );
  app.get(
    "/v1/events",
    {
      config: org,
      schema: {
        tags,
        summary: "The organization's events of the last 30 days, newest first (Stripe's list shape)",
        querystring: z.object({ cursor: z.string().max(500).optional(), type: z.string().min(1).max(100).optional(), limit: pageLimit(context.pageLimitMax) }).strict(),
        response: {
          200: z.object({ object: z.literal("list"), url: z.literal("/v1/events"), data: z.array(eventItem), has_more: z.boolean(), next_cursor: z.string().nullable() }),
          304: notModified,
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const page = await context.feeds.events(organizationOf(request), request.query.limit, { cursor: request.query.cursor, type: request.query.type });
      const body = { object: "list" as const, url: "/v1/events" as const, data: page.items, has_more: page.nextCursor !== null, next_cursor: page.nextCursor };
      const etag = strongEtag(body);
      reply.header("etag", etag).header("cache-control", "no-cache");
      if (ifNoneMatchHits(request.headers["if-none-match"], etag)) return reply.code(304).send(null);
      return body;
    },
  );
};
