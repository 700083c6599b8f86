import { afterAll, beforeAll, describe, expect, test } from "vitest";
import SwaggerParser from "@apidevtools/swagger-parser";
import { deliveryId as liveDeliveryId } from "@novatrade/domain";
import { adminEnv, apiClient, organizationKey, startTestAdmin, TEST_BOOTSTRAP_KEY, type TestAdmin, VIES } from "../support/admin.js";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { dropSchema, newSchemaName, projectorEnv, startTestProjector, type TestProjector } from "../support/projector.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { waitUntil } from "../support/wait-until.js";

/*
 * The admin API against the real broker, registry and PostgreSQL, with the router, sender and
 * projector running: the OpenAPI document, authentication, tenancy on every route, bad input on
 * every route, and the endpoint operations end to end.
 */

const ORG_A = "0a0a0a0a-1111-4222-8333-444455556666";
const ORG_B = "0b0b0b0b-1111-4222-8333-444455556666";

let pipeline: Pipeline;
let projector: TestProjector;
let admin: TestAdmin;
let receiverB: Receiver;
const schema = newSchemaName();
let keyA: string;
let keyB: string;
let keyIdB: string;
let revokedKey: string;
/** Org B's objects, which org A must not reach. */
const b = { endpointId: "", deliveryId: "", jobId: "", keyId: "" };

beforeAll(async () => {
  pipeline = await startPipeline();
  await pipeline.startRouter();
  await pipeline.startSender();
  projector = await startTestProjector(projectorEnv(pipeline, schema));
  admin = await startTestAdmin(adminEnv(pipeline, schema));
  ({ key: keyA } = await organizationKey(admin.url, ORG_A, "org A"));
  ({ key: keyB, keyId: keyIdB } = await organizationKey(admin.url, ORG_B, "org B"));
  const revoked = await organizationKey(admin.url, ORG_A, "revoked");
  revokedKey = revoked.key;
  expect((await apiClient(admin.url, keyA)("DELETE", `/v1/keys/${revoked.keyId}`)).status).toBe(200);
  b.keyId = keyIdB;

  // Org B: an endpoint, a delivery in the history, a replay job.
  receiverB = await startReceiver();
  const apiB = apiClient(admin.url, keyB);
  const created = await apiB("POST", "/v1/endpoints", { url: receiverB.url, eventTypes: ["kyc.*"] });
  expect(created.status).toBe(201);
  b.endpointId = created.body.endpointId;
  await waitUntil(() => pipeline.router?.directory.get(b.endpointId) && pipeline.sender?.directory.get(b.endpointId), { what: "router and sender to see B's endpoint" });
  const eventId = await pipeline.publish({ type: "kyc.vies_check_failed", organizationUuid: ORG_B, data: VIES });
  b.deliveryId = liveDeliveryId(eventId, b.endpointId);
  await waitUntil(async () => (await apiB("GET", `/v1/deliveries/${b.deliveryId}`)).status === 200, { what: "B's delivery in the history", timeoutMs: 90_000 });
  const job = await apiB("POST", `/v1/deliveries/${b.deliveryId}/replay`);
  expect(job.status).toBe(202);
  b.jobId = job.body.jobId;
  // The replayed delivery reaches B's history a little later: wait for it, so the tests that
  // compare B's state before and after see only what they did (or did not) change.
  await waitUntil(
    async () => {
      const deliveries = await apiB("GET", `/v1/deliveries?endpointId=${b.endpointId}`);
      return deliveries.body.data.filter((d: { eventId: string; status: string }) => d.eventId === eventId && d.status === "SUCCEEDED").length >= 2;
    },
    { what: "B's replayed delivery in the history", timeoutMs: 90_000 },
  );
});

afterAll(async () => {
  await admin?.stop();
  await projector?.stop();
  await receiverB?.close();
  await pipeline?.close();
  await dropSchema(schema);
});

/** Every route but the probes, with a well-formed request that names org B's objects. */
function routesOnB(): Array<{ method: string; path: string; body?: unknown }> {
  const now = Date.now();
  return [
    { method: "POST", path: "/v1/keys", body: { name: "k" } },
    { method: "GET", path: "/v1/keys" },
    { method: "DELETE", path: `/v1/keys/${b.keyId}` },
    { method: "POST", path: "/v1/endpoints", body: { url: "http://127.0.0.1:9/x", eventTypes: ["kyc.*"] } },
    { method: "GET", path: "/v1/endpoints" },
    { method: "GET", path: `/v1/endpoints/${b.endpointId}` },
    { method: "PATCH", path: `/v1/endpoints/${b.endpointId}`, body: { description: "taken over" } },
    { method: "DELETE", path: `/v1/endpoints/${b.endpointId}` },
    { method: "POST", path: `/v1/endpoints/${b.endpointId}/pause` },
    { method: "POST", path: `/v1/endpoints/${b.endpointId}/resume` },
    { method: "GET", path: `/v1/endpoints/${b.endpointId}/health` },
    { method: "POST", path: `/v1/endpoints/${b.endpointId}/test`, body: { type: "kyc.vies_check_failed" } },
    { method: "POST", path: `/v1/endpoints/${b.endpointId}/rotate-secret`, body: {} },
    { method: "GET", path: `/v1/deliveries?endpointId=${b.endpointId}` },
    { method: "GET", path: `/v1/deliveries/${b.deliveryId}` },
    { method: "POST", path: `/v1/deliveries/${b.deliveryId}/replay` },
    { method: "POST", path: "/v1/replays", body: { kind: "range", endpointId: b.endpointId, from: new Date(now - 3_600_000).toISOString(), to: new Date(now).toISOString() } },
    { method: "POST", path: "/v1/replays", body: { kind: "backfill", endpointId: b.endpointId, since: new Date(now - 3_600_000).toISOString() } },
    { method: "GET", path: "/v1/replays" },
    { method: "GET", path: `/v1/replays/${b.jobId}` },
    { method: "GET", path: "/v1/compliance/rollup" },
    { method: "GET", path: "/v1/events" },
  ];
}

/** Everything org B has, as org B sees it: must not change when org A (or a bad request) tries things. */
async function stateOfB() {
  const apiB = apiClient(admin.url, keyB);
  const [endpoint, keys, replays, deliveries] = await Promise.all([
    apiB("GET", `/v1/endpoints/${b.endpointId}`),
    apiB("GET", "/v1/keys"),
    apiB("GET", "/v1/replays"),
    apiB("GET", `/v1/deliveries?endpointId=${b.endpointId}`),
  ]);
  return { endpoint: endpoint.body, keys: keys.body, replays: replays.body.data.map((job: { jobId: string }) => job.jobId), deliveries: deliveries.body.data.map((d: { deliveryId: string }) => d.deliveryId) };
}

/** What org A has: bad requests must leave it as it was. */
async function stateOfA() {
  const apiA = apiClient(admin.url, keyA);
  const [endpoints, keys, replays] = await Promise.all([apiA("GET", "/v1/endpoints"), apiA("GET", "/v1/keys"), apiA("GET", "/v1/replays")]);
  return { endpoints: endpoints.body, keys: keys.body, replays: replays.body };
}

function expectProblem(answer: { status: number; contentType: string; body: any }, status: number) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.contentType).toContain("application/problem+json");
  expect(answer.body.status).toBe(status);
  expect(typeof answer.body.title).toBe("string");
}

describe("the OpenAPI document", () => {
  test("validates with an independent OpenAPI validator and lists every route the server answers", async () => {
    const answer = await apiClient(admin.url)("GET", "/openapi.json");
    expect(answer.status).toBe(200);
    const document = answer.body;
    await SwaggerParser.validate(structuredClone(document));
    const documented = new Set(
      Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`)),
    );
    const served = admin.app.routes.map((route) => `${route.method} ${route.url.replace(/:([A-Za-z]+)/g, "{$1}")}`);
    expect(served.length).toBeGreaterThan(20);
    expect(served.filter((route) => !documented.has(route))).toEqual([]);
  });
});

describe("probes", () => {
  test("/healthz and /readyz answer without a key, /metrics counts requests by route pattern", async () => {
    const anonymous = apiClient(admin.url);
    expect(await anonymous("GET", "/healthz")).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await anonymous("GET", "/readyz")).toMatchObject({ status: 200, body: { status: "ready" } });
    await apiClient(admin.url, keyB)("GET", `/v1/endpoints/${b.endpointId}`);
    const metrics = await anonymous("GET", "/metrics");
    expect(metrics.status).toBe(200);
    expect(String(metrics.body)).toMatch(/novatrade_admin_requests_total\{route="\/v1\/endpoints\/:endpointId",method="GET",status="200"/);
    // Ids are never labels: the cardinality stays bounded by the routes.
    expect(String(metrics.body)).not.toContain(b.endpointId);
  });
});

describe("authentication and tenancy", () => {
  test("every route refuses a missing key and a revoked key with 401 problem+json", async () => {
    const anonymous = apiClient(admin.url);
    const revoked = apiClient(admin.url, revokedKey);
    const garbage = apiClient(admin.url, "nvk_o_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    for (const route of routesOnB()) {
      expectProblem(await anonymous(route.method, route.path, route.body), 401);
      expectProblem(await revoked(route.method, route.path, route.body), 401);
      expectProblem(await garbage(route.method, route.path, route.body), 401);
    }
  });

  test("organization A reaches none of organization B's objects: 404 for B's ids, B's items absent from A's lists, B unchanged", async () => {
    const before = await stateOfB();
    const receivedBefore = receiverB.requests.length;
    const apiA = apiClient(admin.url, keyA);
    for (const route of routesOnB()) {
      const answer = await apiA(route.method, route.path, route.body);
      const namesB = [b.endpointId, b.deliveryId, b.jobId, b.keyId].some((id) => route.path.includes(id) || JSON.stringify(route.body ?? {}).includes(id));
      if (namesB && !route.path.startsWith("/v1/deliveries?")) {
        expectProblem(answer, 404);
        continue;
      }
      expect(answer.status, `${route.method} ${route.path}`).toBeLessThan(300);
      const text = JSON.stringify(answer.body);
      for (const id of [b.endpointId, b.deliveryId, b.jobId, b.keyId, ORG_B]) expect(text, `${route.method} ${route.path}`).not.toContain(id);
    }
    expect(await stateOfB()).toEqual(before);
    // Sentinel: B's own test event still arrives, so the absence of A's test event at B's receiver means something.
    const sentinel = await apiClient(admin.url, keyB)("POST", `/v1/endpoints/${b.endpointId}/test`, { type: "kyc.vies_check_failed" });
    expect(sentinel.status).toBe(202);
    const received = await receiverB.waitForRequests(receivedBefore + 1, 60_000);
    expect(received.slice(receivedBefore).map((request) => request.json.id)).toEqual([sentinel.body.eventId]);
  });

  test("an organization key cannot create operator keys or keys of another organization; an operator key must name the organization", async () => {
    const apiA = apiClient(admin.url, keyA);
    expectProblem(await apiA("POST", "/v1/keys", { name: "x", kind: "operator" }), 403);
    expectProblem(await apiA("POST", "/v1/keys", { name: "x", organizationUuid: ORG_B }), 403);
    const operator = apiClient(admin.url, TEST_BOOTSTRAP_KEY);
    const missing = await operator("GET", "/v1/endpoints");
    expectProblem(missing, 400);
    expect(missing.body.field).toBe("x-organization-uuid");
    const named = await operator("GET", "/v1/endpoints", undefined, { "x-organization-uuid": ORG_B });
    expect(named.status).toBe(200);
    expect(named.body.data.map((e: { endpointId: string }) => e.endpointId)).toEqual([b.endpointId]);
    // Keys are shown by prefix only, never the key or its hash.
    const keys = await operator("GET", "/v1/keys");
    expect(JSON.stringify(keys.body)).not.toContain(keyA);
    expect(keys.body.data.find((key: { prefix: string }) => keyA.startsWith(key.prefix))).toBeDefined();
  });
});

describe("bad input", () => {
  test("every route with input answers 4xx problem+json naming the field, and changes nothing", async () => {
    const long = "x".repeat(101);
    const apiA = apiClient(admin.url, keyA);
    const created = await apiA("POST", "/v1/endpoints", { url: "http://127.0.0.1:9/a", eventTypes: ["kyc.*"] });
    expect(created.status).toBe(201);
    const endpointId = created.body.endpointId;
    const cases: Array<{ method: string; path: string; body?: unknown; field: string; status?: number }> = [
      { method: "POST", path: "/v1/keys", body: { name: "" }, field: "name" },
      { method: "POST", path: "/v1/keys", body: { name: "k", colour: "red" }, field: "colour" },
      { method: "DELETE", path: `/v1/keys/${long}`, field: "keyId" },
      { method: "POST", path: "/v1/endpoints", body: { url: "ftp://example.com/x", eventTypes: ["kyc.*"] }, field: "url" },
      { method: "POST", path: "/v1/endpoints", body: { url: "http://127.0.0.1:9/x", eventTypes: ["*"] }, field: "eventTypes" },
      { method: "POST", path: "/v1/endpoints", body: { url: "http://127.0.0.1:9/x", eventTypes: ["kyc.no_such_type"] }, field: "eventTypes" },
      { method: "POST", path: "/v1/endpoints", body: { url: "http://127.0.0.1:9/x", eventTypes: ["kyc.*"], partnerIds: ["not-a-uuid"] }, field: "partnerIds" },
      { method: "POST", path: "/v1/endpoints", body: { url: "http://127.0.0.1:9/x", eventTypes: ["kyc.*"], acceptedSchemaVersions: [0] }, field: "acceptedSchemaVersions" },
      { method: "POST", path: "/v1/endpoints", body: "{not json", field: "body" },
      { method: "GET", path: `/v1/endpoints/${long}`, field: "endpointId" },
      { method: "PATCH", path: `/v1/endpoints/${endpointId}`, body: { eventTypes: ["*"] }, field: "eventTypes" },
      { method: "PATCH", path: `/v1/endpoints/${endpointId}`, body: {}, field: "" },
      { method: "PATCH", path: `/v1/endpoints/${endpointId}`, body: { description: "d" }, field: "if-match", status: 400 },
      { method: "DELETE", path: `/v1/endpoints/${long}`, field: "endpointId" },
      { method: "POST", path: `/v1/endpoints/${long}/pause`, field: "endpointId" },
      { method: "POST", path: `/v1/endpoints/${long}/resume`, field: "endpointId" },
      { method: "POST", path: `/v1/endpoints/${endpointId}/test`, body: { type: "kyc.nope" }, field: "type" },
      { method: "POST", path: `/v1/endpoints/${endpointId}/rotate-secret`, body: { overlapHours: -1 }, field: "overlapHours" },
      { method: "GET", path: "/v1/deliveries?status=NOPE", field: "status" },
      { method: "GET", path: "/v1/deliveries?from=yesterday", field: "from" },
      { method: "GET", path: "/v1/deliveries?cursor=garbage", field: "cursor" },
      { method: "GET", path: `/v1/deliveries/${long}`, field: "deliveryId" },
      { method: "POST", path: `/v1/deliveries/${long}/replay`, field: "deliveryId" },
      { method: "POST", path: "/v1/replays", body: { kind: "range", endpointId, from: "yesterday", to: new Date().toISOString() }, field: "from" },
      { method: "POST", path: "/v1/replays", body: { kind: "range", endpointId, from: new Date().toISOString(), to: new Date(Date.now() - 1000).toISOString() }, field: "to" },
      { method: "POST", path: "/v1/replays", body: { kind: "backfill", endpointId, since: new Date(Date.now() - 40 * 86_400_000).toISOString() }, field: "since" },
      { method: "POST", path: "/v1/replays", body: { kind: "rewind", endpointId }, field: "kind" },
      { method: "GET", path: "/v1/replays?limit=0", field: "limit" },
      { method: "GET", path: `/v1/replays/${long}`, field: "jobId" },
      { method: "GET", path: "/v1/compliance/rollup?cursor=garbage", field: "cursor" },
      { method: "GET", path: "/v1/events?limit=100000", field: "limit" },
      { method: "POST", path: "/v1/endpoints", body: { url: "http://127.0.0.1:9/x", eventTypes: ["kyc.*"], description: "x".repeat(100_000) }, field: "body", status: 413 },
    ];
    const before = await stateOfA();
    for (const entry of cases) {
      const headers: Record<string, string> = entry.field === "if-match" ? { "if-match": "soon" } : {};
      const answer = await apiA(entry.method, entry.path, entry.body, headers);
      expectProblem(answer, entry.status ?? 400);
      if (entry.field !== "") expect(answer.body.field, `${entry.method} ${entry.path}`).toMatch(new RegExp(`^${entry.field}`));
    }
    expect(await stateOfA()).toEqual(before);
  });
});

describe("endpoints", () => {
  test("create, read after write, update with compare-and-set, pause, resume, rotate, test event, delete", async () => {
    const receiver = await startReceiver();
    try {
      const api = apiClient(admin.url, keyA);
      const created = await api("POST", "/v1/endpoints", { url: receiver.url, eventTypes: ["kyc.*", "compliance.status_changed"], description: "erp" });
      expect(created.status).toBe(201);
      expect(created.body.secret).toMatch(/^whsec_/);
      const id = created.body.endpointId;
      // Read after write: visible at once, and the secret never again.
      const read = await api("GET", `/v1/endpoints/${id}`);
      expect(read.status).toBe(200);
      expect(read.body.eventTypes).toEqual(["kyc.*", "compliance.status_changed"]);
      expect(JSON.stringify(read.body)).not.toContain(created.body.secret);
      expect((await api("GET", "/v1/endpoints")).body.data.map((e: { endpointId: string }) => e.endpointId)).toContain(id);

      const updated = await api("PATCH", `/v1/endpoints/${id}`, { description: "erp v2", partnerIds: ["11111111-2222-4333-8444-555555555555"] }, { "if-match": `"${read.body.revision}"` });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({ description: "erp v2", revision: read.body.revision + 1 });
      expect((await api("GET", `/v1/endpoints/${id}`)).body.description).toBe("erp v2");
      // A change based on the old revision is refused and changes nothing.
      const stale = await api("PATCH", `/v1/endpoints/${id}`, { description: "lost update" }, { "if-match": `"${read.body.revision}"` });
      expectProblem(stale, 409);
      expect((await api("GET", `/v1/endpoints/${id}`)).body.description).toBe("erp v2");

      expect((await api("POST", `/v1/endpoints/${id}/pause`)).body.status).toBe("PAUSED");
      expect((await api("GET", `/v1/endpoints/${id}`)).body.status).toBe("PAUSED");
      expect((await api("POST", `/v1/endpoints/${id}/resume`)).body.status).toBe("ACTIVE");

      const before = Date.now();
      const rotated = await api("POST", `/v1/endpoints/${id}/rotate-secret`, {});
      expect(rotated.status).toBe(200);
      expect(rotated.body.secret).toMatch(/^whsec_/);
      expect(rotated.body.secret).not.toBe(created.body.secret);
      const [old, fresh] = rotated.body.secrets;
      expect(fresh.expiresAt).toBeNull();
      // The old secret keeps signing for 24 hours by default.
      const overlapMs = Date.parse(old.expiresAt) - before;
      expect(overlapMs).toBeGreaterThan(23.9 * 3_600_000);
      expect(overlapMs).toBeLessThan(24.1 * 3_600_000);

      await waitUntil(() => (pipeline.sender?.directory.get(id)?.revision ?? 0) >= rotated.body.revision, { what: "the sender to see the rotation" });
      const sent = await api("POST", `/v1/endpoints/${id}/test`, { type: "compliance.status_changed" });
      expect(sent.status).toBe(202);
      expect(sent.body.eventId).toMatch(/^evt_test/);
      const [request] = await receiver.waitForRequests(1, 60_000);
      expect(request!.json.id).toBe(sent.body.eventId);
      expect(request!.json.type).toBe("compliance.status_changed");
      expect(request!.json.organizationUuid).toBe(ORG_A);
      // Signed with both secrets during the overlap.
      expect(request!.headers["x-novatrade-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]+,v1=[0-9a-f]+$/);

      expect((await api("DELETE", `/v1/endpoints/${id}`)).status).toBe(204);
      expectProblem(await api("GET", `/v1/endpoints/${id}`), 404);
    } finally {
      await receiver.close();
    }
  });
});

describe("history", () => {
  test("one delivery with its attempts, filters and cursor pagination, newest first", async () => {
    const api = apiClient(admin.url, keyB);
    const detail = await api("GET", `/v1/deliveries/${b.deliveryId}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ deliveryId: b.deliveryId, endpointId: b.endpointId, status: "SUCCEEDED", eventType: "kyc.vies_check_failed" });
    expect(detail.body.attemptList).toEqual([expect.objectContaining({ attempt: 1, result: "SUCCEEDED", statusCode: 200, responseBody: "ok" })]);
    expect(typeof detail.body.attemptList[0].latencyMs).toBe("number");

    const ids: string[] = [];
    for (let index = 0; index < 3; index++) ids.push(await pipeline.publish({ type: "kyc.vies_check_failed", organizationUuid: ORG_B, data: VIES }));
    const wanted = new Set(ids.map((eventId) => liveDeliveryId(eventId, b.endpointId)));
    await waitUntil(
      async () => {
        const page = await api("GET", `/v1/deliveries?endpointId=${b.endpointId}&limit=100`);
        return [...wanted].every((id) => page.body.data.some((d: { deliveryId: string }) => d.deliveryId === id));
      },
      { what: "three more deliveries in the history", timeoutMs: 90_000 },
    );
    // Page through one at a time: every delivery once, newest first.
    const seen: Array<{ deliveryId: string; firstAttemptedAt: string }> = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: any } = await api("GET", `/v1/deliveries?endpointId=${b.endpointId}&eventType=kyc.vies_check_failed&status=SUCCEEDED&limit=1${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.data);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(new Set(seen.map((d) => d.deliveryId)).size).toBe(seen.length);
    for (const id of wanted) expect(seen.map((d) => d.deliveryId)).toContain(id);
    const times = seen.map((d) => Date.parse(d.firstAttemptedAt));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    // Filters: by event id, and a time range that ends before everything.
    const byEvent = await api("GET", `/v1/deliveries?eventId=${ids[0]}`);
    expect(byEvent.body.data.map((d: { deliveryId: string }) => d.deliveryId)).toEqual([liveDeliveryId(ids[0]!, b.endpointId)]);
    const early = await api("GET", `/v1/deliveries?to=${new Date(Date.now() - 86_400_000).toISOString()}`);
    expect(early.body.data).toEqual([]);
  });

  test("a replay of one delivery re-sends its event now, with the same event id, marked as a replay", async () => {
    const api = apiClient(admin.url, keyB);
    const job = await waitUntil(async () => {
      const answer = await api("GET", `/v1/replays/${b.jobId}`);
      return answer.body.state === "succeeded" || answer.body.state === "failed" ? answer.body : undefined;
    }, { what: "the single-delivery replay job to finish" });
    expect(job).toMatchObject({ state: "succeeded", kind: "delivery", total: 1, requeued: 1 });
    const detail = await api("GET", `/v1/deliveries/${b.deliveryId}`);
    const replayed = await waitUntil(async () => {
      const page = await api("GET", `/v1/deliveries?eventId=${detail.body.eventId}`);
      return page.body.data.find((d: { replayId: string | null }) => d.replayId === b.jobId);
    }, { what: "the replayed delivery in the history", timeoutMs: 90_000 });
    expect(replayed.deliveryId).not.toBe(b.deliveryId);
    expect(receiverB.requests.filter((request) => request.json.id === detail.body.eventId).length).toBeGreaterThanOrEqual(2);
  });
});
