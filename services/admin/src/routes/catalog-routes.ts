import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { AdminContext } from "../admin-context.js";
import type { FixedJson } from "../catalog-document.js";
import { ifNoneMatchHits } from "../etag.js";
import { NotFoundProblem } from "../problem.js";
import { errorResponses } from "../schemas.js";

const versionSchema = z.object({
  version: z.number().int(),
  jsonSchema: z.record(z.unknown()).describe("JSON Schema (2020-12) of the JSON body a receiver gets"),
  example: z.record(z.unknown()).nullable().describe("an example body of this version"),
});
const entrySchema = z.object({ type: z.string(), description: z.string(), latestVersion: z.number().int(), versions: z.array(versionSchema) });
const notModified = z.null().describe("Not Modified: If-None-Match matched the current ETag");

/**
 * The event catalog: every event type and each of its schema versions as JSON Schema with an
 * example. Public to any valid key; it changes only with a deploy, so it carries a strong ETag.
 */
export const catalogRoutes: FastifyPluginAsyncZod<{ context: AdminContext }> = async (app, { context }) => {
  const any = { auth: "any" as const };
  const tags = ["catalog"];
  // The text was serialised once at start-up; the ETag is the hash of exactly that text.
  const send = (request: { headers: { "if-none-match"?: string | undefined } }, reply: import("fastify").FastifyReply, document: FixedJson) => {
    reply.header("etag", document.etag).header("cache-control", "no-cache");
    if (ifNoneMatchHits(request.headers["if-none-match"], document.etag)) return reply.code(304).send(null);
    return reply.type("application/json; charset=utf-8").send(document.text);
  };
  app.get(
    "/v1/catalog",
    { config: any, schema: { tags, summary: "Every event type with each schema version (JSON Schema) and an example", response: { 200: z.object({ object: z.literal("list"), data: z.array(entrySchema) }), 304: notModified, ...errorResponses } } },
    async (request, reply) => send(request, reply, context.catalog.list),
  );
  app.get(
    "/v1/catalog/:type",
    {
      config: any,
      schema: { tags, summary: "One event type with each schema version and an example", params: z.object({ type: z.string().min(1).max(100) }).strict(), response: { 200: entrySchema, 304: notModified, ...errorResponses } },
    },
    async (request, reply) => {
      const document = context.catalog.byType.get(request.params.type);
      if (!document) throw new NotFoundProblem(`event type ${request.params.type}`);
      return send(request, reply, document);
    },
  );
};
