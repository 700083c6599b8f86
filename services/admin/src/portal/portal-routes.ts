import cookie from "@fastify/cookie";
import formbody from "@fastify/formbody";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { EVENT_TYPES, ValidationError } from "@novatrade/domain";
import type { AdminContext } from "../admin-context.js";
import { changeEndpointStatus, endpointHealthBody } from "../endpoint-status.js";
import { HttpProblem, NotFoundProblem } from "../problem.js";
import { startDeliveryReplay, startRangeReplay } from "../replay-start.js";
import { createEndpointBody, updateEndpointBody } from "../schemas.js";
import { CONTENT_SECURITY_POLICY, loadHtmx, PORTAL_CSS } from "./portal-assets.js";
import {
  catalogPage,
  deliveriesTable,
  deliveryPage,
  endpointListPage,
  endpointPage,
  layout,
  messagePage,
  replayProgress,
  secretPage,
  signInPage,
  type FormValues,
} from "./portal-pages.js";
import { SESSION_COOKIE, type PortalSession } from "./portal-session.js";
import type { Html } from "./html.js";

declare module "fastify" {
  interface FastifyRequest {
    portalSession: PortalSession | null;
  }
}

type Form = Record<string, string | undefined>;
type IdParams = { endpointId: string };
const RECENT_DELIVERIES = 25;

/** Fixed notices a redirect can ask for (`?done=`): never text from the query itself. */
const NOTICES: Record<string, string> = {
  paused: "Paused: deliveries wait and none is dropped.",
  resumed: "Resumed: waiting deliveries go out.",
  saved: "Saved.",
  deleted: "Endpoint deleted.",
  test: "Test event sent: it appears in the deliveries below within a few seconds.",
  replay: "Replay started.",
};

const EVENT_TYPE_LIST: readonly string[] = EVENT_TYPES;

/**
 * The integrator portal: server-rendered pages over the same operations as the API (same
 * validation and messages, same tenancy: another organization's id is "not found"), htmx for
 * the live parts (deliveries, replay progress). Signed in with an organization key or an
 * operator's portal link; the session is a signed cookie that holds no key.
 */
export async function portalRoutes(app: FastifyInstance, { context }: { context: AdminContext }): Promise<void> {
  const { signer } = context.portal;
  const htmx = loadHtmx();
  await app.register(formbody);
  await app.register(cookie);
  app.decorateRequest("portalSession", null);

  app.addHook("onSend", async (_request, reply, payload) => {
    reply.header("content-security-policy", CONTENT_SECURITY_POLICY).header("x-content-type-options", "nosniff").header("referrer-policy", "same-origin");
    if (!reply.hasHeader("cache-control")) reply.header("cache-control", "no-store");
    return payload;
  });
  // SameSite=Strict keeps the cookie off cross-site posts; a foreign Origin is refused as well.
  app.addHook("preHandler", async (request, reply) => {
    if (request.method !== "POST") return;
    const origin = request.headers.origin;
    if (origin && originHost(origin) !== request.host) return reply.code(403).type("text/plain").send("cross-site request refused");
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof NotFoundProblem) return sendPage(reply.code(404), "Not found", request.portalSession, messagePage("Not found", `${error.message}: it does not exist, or it is not your organization's.`));
    request.log.error({ err: error, route: request.routeOptions.url }, "portal request failed");
    return sendPage(reply.code(500), "Error", request.portalSession, messagePage("Something went wrong", "The request failed; it may or may not have been applied. Reload the endpoint to see."));
  });

  const sessionCookie = (request: FastifyRequest, reply: FastifyReply, session: PortalSession) =>
    reply.setCookie(SESSION_COOKIE, signer.session(session), {
      path: "/portal",
      httpOnly: true,
      sameSite: "strict",
      secure: request.protocol === "https",
      maxAge: Math.floor((session.exp - Date.now()) / 1000),
    });
  const sessionUntil = () => Date.now() + context.portal.sessionMinutes * 60_000;

  /** Pages that need a session: without one (or with a revoked key), back to sign-in. */
  const signedIn = async (request: FastifyRequest, reply: FastifyReply) => {
    const session = signer.readSession(request.cookies[SESSION_COOKIE]);
    if (!session || (session.keyId !== null && !(await context.keys.isActive(session.keyId)))) {
      if (request.headers["hx-request"]) return reply.header("hx-redirect", "/portal/sign-in").code(204).send();
      return reply.redirect("/portal/sign-in", 303);
    }
    request.portalSession = session;
  };
  const org = (request: FastifyRequest) => request.portalSession!.organizationUuid;
  const actor = (request: FastifyRequest) => ({ kind: request.portalSession!.kind, name: request.portalSession!.name });

  app.get("/portal/static/htmx.min.js", async (_request, reply) => reply.type("text/javascript; charset=utf-8").header("cache-control", "public, max-age=3600").send(htmx));
  app.get("/portal/static/portal.css", async (_request, reply) => reply.type("text/css; charset=utf-8").header("cache-control", "public, max-age=3600").send(PORTAL_CSS));
  app.get("/portal", async (_request, reply) => reply.redirect("/portal/endpoints", 303));

  app.get("/portal/sign-in", async (_request, reply) => sendPage(reply, "Sign in", null, signInPage(null)));
  app.post<{ Body: Form }>("/portal/sign-in", async (request, reply) => {
    const caller = await context.keys.authenticate(String(request.body?.key ?? "").trim());
    if (!caller) return sendPage(reply.code(401), "Sign in", null, signInPage("The API key is unknown or revoked."));
    if (caller.kind !== "organization") return sendPage(reply.code(403), "Sign in", null, signInPage("This is an operator key: operators sign in to an organization with a portal link (npm run ops -- portal-link --org …)."));
    sessionCookie(request, reply, { organizationUuid: caller.organizationUuid, kind: "organization", name: caller.name, keyId: caller.keyId, exp: sessionUntil() });
    return reply.redirect("/portal/endpoints", 303);
  });
  // The token signs in whoever holds it: its request is not logged (Fastify logs URLs).
  app.get<{ Querystring: { token?: string } }>("/portal/link", { logLevel: "silent" }, async (request, reply) => {
    const link = signer.readLink(String(request.query.token ?? ""));
    if (!link) return sendPage(reply.code(401), "Sign in", null, signInPage("This portal link is invalid or has expired: ask an operator for a new one."));
    sessionCookie(request, reply, { organizationUuid: link.organizationUuid, kind: "operator", name: `${link.mintedBy} (portal link)`, keyId: null, exp: sessionUntil() });
    return reply.redirect(link.endpointId === null ? "/portal/endpoints" : `/portal/endpoints/${encodeURIComponent(link.endpointId)}`, 303);
  });
  app.post("/portal/sign-out", async (_request, reply) => reply.clearCookie(SESSION_COOKIE, { path: "/portal" }).redirect("/portal/sign-in", 303));

  app.get<{ Querystring: { done?: string } }>("/portal/endpoints", { preHandler: signedIn }, async (request, reply) =>
    sendPage(reply, "Endpoints", request.portalSession, endpointListPage(context.endpoints.list(org(request)), EVENT_TYPE_LIST, {}, [], NOTICES[request.query.done ?? ""] ?? null)),
  );
  app.post<{ Body: Form }>("/portal/endpoints", { preHandler: signedIn }, async (request, reply) => {
    const values = formValues(request.body);
    const parsed = createEndpointBody.safeParse(endpointInput(values, "create"));
    const refuse = (errors: string[]) => sendPage(reply.code(400), "Endpoints", request.portalSession, endpointListPage(context.endpoints.list(org(request)), EVENT_TYPE_LIST, values, errors, null));
    if (!parsed.success) return refuse(zodMessages(parsed.error.issues));
    try {
      const { config, secret } = await context.endpoints.create(org(request), parsed.data);
      return sendPage(reply.code(201), "Endpoint registered", request.portalSession, secretPage(config, secret, "created"));
    } catch (error) {
      return refuse([refusalOf(error)]);
    }
  });

  const endpointView = async (request: FastifyRequest, endpointId: string, extra: { jobId?: string | null; notice?: string | null; errors?: string[]; values?: FormValues | null } = {}) => {
    const organizationUuid = org(request);
    const endpoint = context.endpoints.get(organizationUuid, endpointId);
    const [health, deliveries] = await Promise.all([
      endpointHealthBody(context, organizationUuid, endpointId),
      context.history.deliveriesWithAttempts({ organizationUuid, endpointId, limit: RECENT_DELIVERIES }),
    ]);
    return endpointPage({ endpoint, health, deliveries, eventTypes: EVENT_TYPE_LIST, jobId: extra.jobId ?? null, notice: extra.notice ?? null, errors: extra.errors ?? [], values: extra.values ?? null });
  };
  app.get<{ Params: IdParams; Querystring: { done?: string; job?: string } }>("/portal/endpoints/:endpointId", { preHandler: signedIn }, async (request, reply) => {
    const jobId = /^rpl_[0-9a-f]{32}$/.test(request.query.job ?? "") ? request.query.job! : null;
    const page = await endpointView(request, request.params.endpointId, { jobId, notice: NOTICES[request.query.done ?? ""] ?? null });
    return sendPage(reply, request.params.endpointId, request.portalSession, page);
  });
  app.get<{ Params: IdParams }>("/portal/endpoints/:endpointId/deliveries", { preHandler: signedIn }, async (request, reply) => {
    const organizationUuid = org(request);
    context.endpoints.get(organizationUuid, request.params.endpointId);
    const deliveries = await context.history.deliveriesWithAttempts({ organizationUuid, endpointId: request.params.endpointId, limit: RECENT_DELIVERIES });
    return sendFragment(reply, deliveriesTable(deliveries));
  });

  /** A change from the endpoint page: done → back to the page with a notice; refused → the page with the API's message. */
  const endpointAction = (path: string, act: (request: FastifyRequest<{ Params: IdParams; Body: Form }>) => Promise<string | Html>) =>
    app.post<{ Params: IdParams; Body: Form }>(`/portal/endpoints/:endpointId/${path}`, { preHandler: signedIn }, async (request, reply) => {
      const { endpointId } = request.params;
      try {
        const outcome = await act(request);
        if (typeof outcome !== "string") return sendPage(reply, endpointId, request.portalSession, outcome);
        return reply.redirect(outcome, 303);
      } catch (error) {
        if (error instanceof NotFoundProblem) throw error;
        const values = path === "edit" ? formValues(request.body) : null;
        return sendPage(reply.code(400), endpointId, request.portalSession, await endpointView(request, endpointId, { errors: error instanceof FormRefusal ? error.messages : [refusalOf(error)], values }));
      }
    });
  const pageOf = (endpointId: string, query: string) => `/portal/endpoints/${encodeURIComponent(endpointId)}?${query}`;
  endpointAction("edit", async (request) => {
    const parsed = updateEndpointBody.safeParse(endpointInput(formValues(request.body), "update"));
    if (!parsed.success) throw new FormRefusal(zodMessages(parsed.error.issues));
    await context.endpoints.update(org(request), request.params.endpointId, parsed.data);
    return pageOf(request.params.endpointId, "done=saved");
  });
  endpointAction("pause", async (request) => {
    const reason = String(request.body?.reason ?? "").trim();
    await changeEndpointStatus(context, org(request), request.params.endpointId, "PAUSED", actor(request), reason === "" ? null : reason.slice(0, 500));
    return pageOf(request.params.endpointId, "done=paused");
  });
  endpointAction("resume", async (request) => {
    await changeEndpointStatus(context, org(request), request.params.endpointId, "ACTIVE", actor(request), null);
    return pageOf(request.params.endpointId, "done=resumed");
  });
  endpointAction("rotate-secret", async (request) => {
    const rotated = await context.endpoints.rotateSecret(org(request), request.params.endpointId);
    return secretPage(rotated.config, rotated.secret, "rotated");
  });
  endpointAction("delete", async (request) => {
    if (request.body?.confirm !== "yes") throw new ValidationError("confirm", "tick the box to confirm the deletion");
    await context.endpoints.remove(org(request), request.params.endpointId);
    return "/portal/endpoints?done=deleted";
  });
  endpointAction("test", async (request) => {
    await context.endpoints.sendTestEvent(org(request), request.params.endpointId, String(request.body?.type ?? ""));
    return pageOf(request.params.endpointId, "done=test");
  });
  endpointAction("replay", async (request) => {
    const from = utcInstant("from", request.body?.from);
    const to = utcInstant("to", request.body?.to);
    const job = await startRangeReplay(context, org(request), { endpointId: request.params.endpointId, from, to, failedOnly: request.body?.failedOnly === "true" });
    return pageOf(request.params.endpointId, `job=${job.jobId}`);
  });

  app.get<{ Params: { deliveryId: string } }>("/portal/deliveries/:deliveryId", { preHandler: signedIn }, async (request, reply) => {
    const delivery = await context.history.delivery(org(request), request.params.deliveryId);
    if (!delivery) throw new NotFoundProblem(`delivery ${request.params.deliveryId}`);
    return sendPage(reply, request.params.deliveryId, request.portalSession, deliveryPage(delivery));
  });
  app.post<{ Params: { deliveryId: string } }>("/portal/deliveries/:deliveryId/replay", { preHandler: signedIn }, async (request, reply) => {
    const job = await startDeliveryReplay(context, org(request), request.params.deliveryId);
    return reply.redirect(pageOf(job.endpointId, `job=${job.jobId}`), 303);
  });
  app.get<{ Params: { jobId: string } }>("/portal/replays/:jobId", { preHandler: signedIn }, async (request, reply) => {
    const job = await context.jobs.get(org(request), request.params.jobId);
    if (!job) throw new NotFoundProblem(`replay job ${request.params.jobId}`);
    return sendFragment(reply, replayProgress(job));
  });

  app.get("/portal/catalog", { preHandler: signedIn }, async (request, reply) => sendPage(reply, "Event catalog", request.portalSession, catalogPage(context.catalog.entries)));
}

/** Several messages refusing a form, as the API lists them. */
class FormRefusal extends Error {
  constructor(readonly messages: string[]) {
    super(messages.join("; "));
  }
}

/** The host of an Origin header; null for "null" or anything unparsable (refused). */
function originHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

function sendPage(reply: FastifyReply, title: string, session: PortalSession | null, body: Html) {
  return reply.type("text/html; charset=utf-8").send(layout(title, session, body).text);
}

function sendFragment(reply: FastifyReply, fragment: Html) {
  return reply.type("text/html; charset=utf-8").send(fragment.text);
}

function formValues(body: Form | undefined): FormValues {
  const values: FormValues = {};
  for (const [key, value] of Object.entries(body ?? {})) if (typeof value === "string") values[key] = value;
  return values;
}

/**
 * A form as the API's request body, so the API's schema and rules judge it and say the same
 * things. Lists are comma-separated; an empty optional field is left out when creating and
 * means "none" (null) when editing, where the form always shows every field.
 */
function endpointInput(values: FormValues, mode: "create" | "update"): Record<string, unknown> {
  const list = (text: string | undefined) => (text ?? "").split(",").map((item) => item.trim()).filter((item) => item !== "");
  const number = (text: string | undefined) => (text === undefined || text.trim() === "" ? undefined : Number(text));
  const body: Record<string, unknown> = { url: (values.url ?? "").trim(), eventTypes: list(values.eventTypes) };
  if (mode === "update" || (values.description ?? "") !== "") body.description = values.description ?? "";
  const partners = list(values.partnerIds);
  if (partners.length > 0) body.partnerIds = partners;
  else if (mode === "update") body.partnerIds = null;
  if (number(values.maxInFlight) !== undefined) body.maxInFlight = number(values.maxInFlight);
  const rate = number(values.rateLimitPerSecond);
  if (rate !== undefined) body.rateLimitPerSecond = rate;
  else if (mode === "update") body.rateLimitPerSecond = null;
  return body;
}

/** zod's issues as the API words them: `field: message`. */
function zodMessages(issues: ReadonlyArray<{ path: ReadonlyArray<string | number>; message: string }>): string[] {
  return issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`);
}

/** What the API would answer as the problem's detail; anything else is not the user's to fix. */
function refusalOf(error: unknown): string {
  if (error instanceof ValidationError) return error.message;
  if (error instanceof HttpProblem && error.status < 500) return error.message;
  throw error;
}

/** A `datetime-local` value read as UTC. */
function utcInstant(field: string, value: string | undefined): number {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(:\d{2})?$/.exec(value ?? "");
  const ms = match ? Date.parse(`${match[1]}${match[2] ?? ":00"}Z`) : Number.NaN;
  if (Number.isNaN(ms)) throw new ValidationError(field, "must be a date and time (UTC)");
  return ms;
}

