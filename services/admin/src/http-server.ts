import fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import swagger from "@fastify/swagger";
import type { Logger } from "pino";
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import { ValidationError } from "@novatrade/domain";
import { ConcurrentEndpointChangeError, EndpointNotFoundError } from "@novatrade/endpoint-config";
import type { Caller } from "./api-key-store.js";
import type { AdminContext } from "./admin-context.js";
import { ConflictProblem, ForbiddenProblem, HttpProblem, NotFoundProblem, PROBLEM_CONTENT_TYPE, problemDocument, UnauthorizedProblem, type FieldProblem } from "./problem.js";
import { catalogRoutes } from "./routes/catalog-routes.js";
import { endpointRoutes } from "./routes/endpoint-routes.js";
import { feedRoutes } from "./routes/feed-routes.js";
import { historyRoutes } from "./routes/history-routes.js";
import { keyRoutes } from "./routes/key-routes.js";
import { opsRoutes } from "./routes/ops-routes.js";
import { portalLinkRoutes } from "./routes/portal-link-routes.js";
import { portalRoutes } from "./portal/portal-routes.js";
import { replayRoutes } from "./routes/replay-routes.js";

/**
 * Who may call a route: `organization` (an organization's key, or an operator's naming the
 * organization in X-Organization-Uuid), `any` key, `operator` only, or `none` (probes, document).
 */
export type AuthMode = "organization" | "any" | "operator" | "none";

declare module "fastify" {
  interface FastifyContextConfig {
    auth?: AuthMode;
  }
  interface FastifyRequest {
    caller: Caller | null;
    /** The organization every read and write of this request is limited to. */
    organizationUuid: string | null;
  }
}

export type AdminServer = FastifyInstance<
  import("node:http").Server,
  import("node:http").IncomingMessage,
  import("node:http").ServerResponse,
  Logger,
  ZodTypeProvider
>;

const ORGANIZATION_HEADER = "x-organization-uuid";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The admin HTTP API: every request and answer validated by its zod schema, documented in /openapi.json. */
export async function buildHttpServer(context: AdminContext, logger: Logger): Promise<{ server: AdminServer; routes: RouteEntry[] }> {
  const app = fastify({
    loggerInstance: logger.child({ component: "http" }),
    bodyLimit: context.bodyLimitBytes,
    // Fastify's request log shows method, url and address, never headers (keys travel in
    // authorization). Long path parameters reach the zod schemas, which name them (400).
    routerOptions: { maxParamLength: 512 },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "Novatrade Webhooks admin API",
        version: "1.0.0",
        description: "Endpoints, delivery history, replay and reconciliation feeds. Errors are RFC 9457 problem documents.",
      },
      components: { securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "Authorization: Bearer nvk_…" } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });

  const routes: RouteEntry[] = [];
  app.addHook("onRoute", (route) => {
    // The portal's HTML pages are not API routes: no OpenAPI entry, no key.
    if (route.url.startsWith("/portal")) {
      route.schema = { ...route.schema, hide: true };
      return;
    }
    for (const method of [route.method].flat()) if (method !== "HEAD") routes.push({ method, url: route.url });
  });
  app.decorateRequest("caller", null);
  app.decorateRequest("organizationUuid", null);
  app.addHook("onRequest", async (request) => authenticate(context, request));
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    context.metrics.requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    context.metrics.requestSeconds.observe({ route }, reply.elapsedTime / 1000);
  });
  app.setErrorHandler((error, request, reply) => sendProblem(reply, toProblem(error, request, logger), request));
  app.setNotFoundHandler((request, reply) => sendProblem(reply, new NotFoundProblem(`route ${request.method} ${request.url.split("?")[0]}`), request));

  await app.register(opsRoutes, { context });
  await app.register(keyRoutes, { context });
  await app.register(endpointRoutes, { context });
  await app.register(historyRoutes, { context });
  await app.register(replayRoutes, { context });
  await app.register(feedRoutes, { context });
  await app.register(catalogRoutes, { context });
  await app.register(portalLinkRoutes, { context });
  await app.register(portalRoutes, { context });
  return { server: app as unknown as AdminServer, routes };
}

/** A route the server answers (HEAD, which Fastify adds to every GET, left out). */
export interface RouteEntry {
  method: string;
  url: string;
}

async function authenticate(context: AdminContext, request: FastifyRequest): Promise<void> {
  const mode = request.routeOptions.config.auth ?? "none";
  if (mode === "none") return;
  const header = request.headers.authorization;
  const presented = header?.startsWith("Bearer ") ? header.slice("Bearer ".length).trim() : undefined;
  const caller = presented ? await context.keys.authenticate(presented) : null;
  if (!caller) {
    context.metrics.authFailures.inc();
    throw new UnauthorizedProblem(presented ? "the API key is unknown or revoked" : "an API key is required: Authorization: Bearer <key>");
  }
  request.caller = caller;
  if (mode === "operator" && caller.kind !== "operator") throw new ForbiddenProblem("this route needs an operator key");
  if (caller.kind === "organization") {
    request.organizationUuid = caller.organizationUuid;
    return;
  }
  const named = request.headers[ORGANIZATION_HEADER];
  if (mode === "organization") {
    if (typeof named !== "string" || !UUID.test(named)) {
      throw new HttpProblem(400, "Invalid request", `${ORGANIZATION_HEADER}: an operator key must name the organization (a UUID)`, {
        field: ORGANIZATION_HEADER,
        errors: [{ in: "header", field: ORGANIZATION_HEADER, message: "must be a UUID" }],
      });
    }
    request.organizationUuid = named.toLowerCase();
  }
}

/** The organization a request is limited to (set by authenticate for organization routes). */
export function organizationOf(request: FastifyRequest): string {
  if (!request.organizationUuid) throw new ForbiddenProblem("this route needs an organization");
  return request.organizationUuid;
}

function toProblem(error: unknown, request: FastifyRequest, logger: Logger): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const location = (error as FastifyError).validationContext ?? "body";
    const errors: FieldProblem[] = error.validation.map((issue) => ({
      in: location,
      field: issue.instancePath.replace(/^\//, "").replaceAll("/", ".") || issue.params.issue.path.join(".") || location,
      message: issue.message,
    }));
    // An unknown property is named by zod in the message, not the path.
    for (const entry of errors) {
      const unknown = error.validation.find((issue) => issue.params.issue.code === "unrecognized_keys")?.params.issue;
      if (unknown && "keys" in unknown && entry.field === location) entry.field = (unknown.keys as string[]).join(",");
    }
    const first = errors[0]!;
    return new HttpProblem(400, "Invalid request", errors.map((entry) => `${entry.field}: ${entry.message}`).join("; "), { field: first.field, errors });
  }
  if (error instanceof ValidationError) {
    return new HttpProblem(400, "Invalid request", error.message, { field: error.field, errors: [{ in: "body", field: error.field, message: error.message }] });
  }
  if (error instanceof EndpointNotFoundError) return new NotFoundProblem(`endpoint ${error.endpointId}`);
  if (error instanceof ConcurrentEndpointChangeError) return new ConflictProblem(error.message);
  const fastifyError = error as FastifyError;
  if (!isResponseSerializationErrorSafe(error) && typeof fastifyError.statusCode === "number" && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    // Fastify's own refusals: body too large (413), bad JSON (400), wrong media type (415).
    return new HttpProblem(fastifyError.statusCode, fastifyError.statusCode === 413 ? "Payload too large" : "Invalid request", fastifyError.message, {
      field: "body",
      errors: [{ in: "body", field: "body", message: fastifyError.message }],
    });
  }
  logger.error({ err: error, route: request.routeOptions.url, method: request.method }, "request failed");
  return new HttpProblem(500, "Internal error", "the request failed; it may or may not have been applied, see the logs");
}

function isResponseSerializationErrorSafe(error: unknown): boolean {
  return typeof error === "object" && error !== null && isResponseSerializationError(error as never);
}

function sendProblem(reply: FastifyReply, problem: HttpProblem, request: FastifyRequest) {
  const path = request.url.split("?")[0] ?? request.url;
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).serializer(JSON.stringify).send(problemDocument(problem, path));
}
