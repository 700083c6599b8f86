import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { AdminContext } from "../admin-context.js";
import { errorResponses } from "../schemas.js";

/** Portal links: an operator signs an organization's integrators in to the portal without a key. */
export const portalLinkRoutes: FastifyPluginAsyncZod<{ context: AdminContext }> = async (app, { context }) => {
  app.post(
    "/v1/portal-links",
    {
      config: { auth: "operator" },
      schema: {
        tags: ["portal"],
        summary: "Mint a short-lived link that signs in to the portal as an organization (operators only)",
        body: z
          .object({
            organizationUuid: z.string().uuid(),
            ttlMinutes: z.number().int().min(1).max(1440).optional().describe("how long the link can be used to sign in (default ADMIN_PORTAL_LINK_MINUTES, 15)"),
            endpointId: z.string().min(1).max(100).optional().describe("open on this endpoint's page rather than the list"),
          })
          .strict(),
        response: { 201: z.object({ url: z.string(), organizationUuid: z.string(), expiresAt: z.string() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const organizationUuid = request.body.organizationUuid.toLowerCase();
      const expiresAt = Date.now() + (request.body.ttlMinutes ?? context.portal.linkMinutes) * 60_000;
      // The landing endpoint must be the organization's, so a link never names another's id.
      if (request.body.endpointId !== undefined) context.endpoints.get(organizationUuid, request.body.endpointId);
      const token = context.portal.signer.link({ organizationUuid, mintedBy: request.caller!.name, endpointId: request.body.endpointId ?? null }, expiresAt);
      const base = context.portal.publicUrl || `${request.protocol}://${request.host}`;
      return reply.code(201).send({ url: `${base.replace(/\/$/, "")}/portal/link?token=${token}`, organizationUuid, expiresAt: new Date(expiresAt).toISOString() });
    },
  );
};
