import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { AdminContext } from "../admin-context.js";
import { errorResponses, keySchema } from "../schemas.js";
import { BadRequestProblem, ForbiddenProblem, NotFoundProblem } from "../problem.js";

/**
 * API keys. Operators create keys for any organization (and operator keys); an organization's
 * key creates, lists and revokes keys of its own organization only.
 */
export const keyRoutes: FastifyPluginAsyncZod<{ context: AdminContext }> = async (app, { context }) => {
  const any = { auth: "any" as const };
  app.post(
    "/v1/keys",
    {
      config: any,
      schema: {
        tags: ["keys"],
        summary: "Create an API key; the key is in this answer only (afterwards only its prefix is shown)",
        body: z
          .object({
            name: z.string().min(1).max(100),
            kind: z.enum(["organization", "operator"]).default("organization"),
            organizationUuid: z.string().uuid().optional().describe("operators: the organization of the key; organization keys: their own"),
          })
          .strict(),
        response: { 201: keySchema.extend({ key: z.string() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const caller = request.caller!;
      const { name, kind } = request.body;
      let organizationUuid = request.body.organizationUuid?.toLowerCase() ?? null;
      if (caller.kind === "organization") {
        if (kind === "operator") throw new ForbiddenProblem("only operators create operator keys");
        if (organizationUuid !== null && organizationUuid !== caller.organizationUuid) throw new ForbiddenProblem("an organization's key creates keys of its own organization only");
        organizationUuid = caller.organizationUuid;
      } else if (kind === "organization" && organizationUuid === null) {
        throw new BadRequestProblem("organizationUuid", "is required for an organization key");
      } else if (kind === "operator" && organizationUuid !== null) {
        throw new BadRequestProblem("organizationUuid", "an operator key belongs to no organization");
      }
      const created = await context.keys.create({ kind, organizationUuid, name });
      return reply.code(201).send(created);
    },
  );
  app.get(
    "/v1/keys",
    { config: any, schema: { tags: ["keys"], summary: "List keys (prefixes only)", response: { 200: z.object({ data: z.array(keySchema) }), ...errorResponses } } },
    async (request) => ({ data: await context.keys.list({ organizationUuid: request.caller!.organizationUuid }) }),
  );
  app.delete(
    "/v1/keys/:keyId",
    {
      config: any,
      schema: {
        tags: ["keys"],
        summary: "Revoke a key; it stops working at once",
        params: z.object({ keyId: z.string().min(1).max(100) }).strict(),
        response: { 200: keySchema, ...errorResponses },
      },
    },
    async (request) => {
      const revoked = await context.keys.revoke(request.params.keyId, { organizationUuid: request.caller!.organizationUuid });
      if (!revoked) throw new NotFoundProblem(`key ${request.params.keyId}`);
      return revoked;
    },
  );
};
