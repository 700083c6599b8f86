import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { AdminContext } from "../admin-context.js";

/** Probes, metrics and the OpenAPI document: no key needed. */
export const opsRoutes: FastifyPluginAsyncZod<{ context: AdminContext }> = async (app, { context }) => {
  const open = { auth: "none" as const };
  app.get("/healthz", { config: open, schema: { tags: ["ops"], security: [], summary: "Liveness: the process answers", response: { 200: z.object({ status: z.literal("ok") }) } } }, async () => ({
    status: "ok" as const,
  }));
  app.get(
    "/readyz",
    {
      config: open,
      schema: {
        tags: ["ops"],
        security: [],
        summary: "Readiness: the endpoint view is current and PostgreSQL answers",
        response: { 200: z.object({ status: z.literal("ready") }), 503: z.object({ status: z.literal("not ready") }) },
      },
    },
    async (_request, reply) => ((await context.isReady()) ? { status: "ready" as const } : reply.code(503).send({ status: "not ready" as const })),
  );
  app.get("/metrics", { config: open, schema: { tags: ["ops"], security: [], summary: "Prometheus metrics (text format)", produces: ["text/plain"] } }, async (_request, reply) =>
    reply.type(context.registry.contentType).serializer(String).send(await context.registry.metrics()),
  );
  app.get("/openapi.json", { config: open, schema: { tags: ["ops"], security: [], summary: "This OpenAPI document" } }, async (_request, reply) =>
    reply.serializer(JSON.stringify).send(app.swagger()),
  );
};
