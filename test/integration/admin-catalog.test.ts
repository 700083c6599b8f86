import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { EVENT_TYPES } from "@novatrade/domain";
import { runOpsCommand } from "../../packages/ops-cli/src/ops-command.js";
import { adminEnv, apiClient, organizationKey, startTestAdmin, TEST_BOOTSTRAP_KEY, type TestAdmin } from "../support/admin.js";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { dropSchema, newSchemaName } from "../support/projector.js";

/*
 * The event catalog, endpoint health with who paused it, and portal links, through the admin
 * API against the real broker, registry and PostgreSQL.
 */

const ORG = "0c0c0c0c-7777-4777-8777-444455556666";
let pipeline: Pipeline;
let admin: TestAdmin;
const schema = newSchemaName();
let key: string;

beforeAll(async () => {
  pipeline = await startPipeline();
  admin = await startTestAdmin(adminEnv(pipeline, schema));
  ({ key } = await organizationKey(admin.url, ORG, "catalog test key"));
});

afterAll(async () => {
  await admin?.stop();
  await pipeline?.close();
  await dropSchema(schema);
});

describe("GET /v1/catalog", () => {
  test("lists every event type with each version's JSON Schema and example, for any valid key; none without one", async () => {
    const answer = await apiClient(admin.url, key)("GET", "/v1/catalog");
    expect(answer.status).toBe(200);
    expect(answer.body.data.map((entry: { type: string }) => entry.type)).toEqual([...EVENT_TYPES]);
    const kyc = answer.body.data.find((entry: { type: string }) => entry.type === "kyc.verification_completed");
    expect(kyc.versions.map((version: { version: number }) => version.version)).toEqual([1, 2]);
    expect(kyc.versions[1].jsonSchema.properties.createdAt).toMatchObject({ type: "string", format: "date-time" });
    expect(kyc.versions[1].example).toMatchObject({ type: "kyc.verification_completed", schemaVersion: 2, data: { documentCountry: "DE" } });
    expect((await apiClient(admin.url, TEST_BOOTSTRAP_KEY)("GET", "/v1/catalog")).status).toBe(200);
    expect((await apiClient(admin.url)("GET", "/v1/catalog")).status).toBe(401);
  });

  test("has a strong ETag of exactly the body; If-None-Match with it answers 304 without a body, another tag 200", async () => {
    const api = apiClient(admin.url, key);
    const first = await api("GET", "/v1/catalog");
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const { createHash } = await import("node:crypto");
    expect(etag).toBe(`"${createHash("sha256").update(JSON.stringify(first.body)).digest("base64url")}"`);
    const unchanged = await api("GET", "/v1/catalog", undefined, { "if-none-match": etag });
    expect(unchanged.status).toBe(304);
    expect(unchanged.body).toBeNull();
    // Sentinel: a tag that does not match gets the body.
    expect((await api("GET", "/v1/catalog", undefined, { "if-none-match": '"other"' })).status).toBe(200);
    const one = await api("GET", "/v1/catalog/compliance.status_changed");
    expect(one.status).toBe(200);
    expect(one.body.latestVersion).toBe(2);
    expect(one.headers.get("etag")).not.toBe(etag);
    expect((await api("GET", "/v1/catalog/compliance.status_changed", undefined, { "if-none-match": one.headers.get("etag")! })).status).toBe(304);
    expect((await api("GET", "/v1/catalog/no.such_type")).status).toBe(404);
  });
});

describe("GET /v1/endpoints/:id/health", () => {
  test("says who paused the endpoint and why (operator or organization key, by name), and nobody once resumed", async () => {
    const api = apiClient(admin.url, key);
    const created = await api("POST", "/v1/endpoints", { url: "http://127.0.0.1:9/hook", eventTypes: ["kyc.*"] });
    const id = created.body.endpointId;
    const healthy = await api("GET", `/v1/endpoints/${id}/health`);
    expect(healthy.body).toMatchObject({ endpointId: id, status: "ACTIVE", consecutiveFailures: 0, failingSince: null, pausedBy: null });
    expect(healthy.body.last24h).toHaveLength(24);

    const operator = apiClient(admin.url, TEST_BOOTSTRAP_KEY, { "x-organization-uuid": ORG });
    expect((await operator("POST", `/v1/endpoints/${id}/pause`, { reason: "incident 42" })).status).toBe(200);
    expect((await api("GET", `/v1/endpoints/${id}/health`)).body.pausedBy).toMatchObject({ kind: "operator", name: "bootstrap operator key", reason: "incident 42" });
    // Pausing a paused endpoint keeps the first pauser.
    await api("POST", `/v1/endpoints/${id}/pause`, { reason: "me too" });
    expect((await api("GET", `/v1/endpoints/${id}/health`)).body.pausedBy).toMatchObject({ kind: "operator", reason: "incident 42" });

    const resumed = await api("POST", `/v1/endpoints/${id}/resume`);
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    expect((await api("GET", `/v1/endpoints/${id}/health`)).body.pausedBy).toBeNull();
    await api("POST", `/v1/endpoints/${id}/pause`);
    expect((await api("GET", `/v1/endpoints/${id}/health`)).body.pausedBy).toMatchObject({ kind: "organization", name: "catalog test key", reason: null });
  });
});

describe("POST /v1/portal-links", () => {
  test("operators mint a link for an organization; organization keys may not; the ops CLI prints it", async () => {
    expect((await apiClient(admin.url, key)("POST", "/v1/portal-links", { organizationUuid: ORG })).status).toBe(403);
    expect((await apiClient(admin.url, TEST_BOOTSTRAP_KEY)("POST", "/v1/portal-links", { organizationUuid: "not-a-uuid" })).status).toBe(400);
    // A landing endpoint of another organization is not found, as everywhere else.
    expect((await apiClient(admin.url, TEST_BOOTSTRAP_KEY)("POST", "/v1/portal-links", { organizationUuid: ORG, endpointId: "ep_not_this_orgs" })).status).toBe(404);
    const minted = await apiClient(admin.url, TEST_BOOTSTRAP_KEY)("POST", "/v1/portal-links", { organizationUuid: ORG, ttlMinutes: 2 });
    expect(minted.status).toBe(201);
    expect(Date.parse(minted.body.expiresAt) - Date.now()).toBeLessThanOrEqual(120_000);
    const signedIn = await fetch(minted.body.url, { redirect: "manual" });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get("set-cookie")).toMatch(/^novatrade_portal=.+; Max-Age=\d+; Path=\/portal; HttpOnly; SameSite=Strict/);

    let stdout = "";
    let stderr = "";
    const run = (argv: string[]) =>
      runOpsCommand(argv, {
        env: { NOVATRADE_API_KEY: TEST_BOOTSTRAP_KEY, NOVATRADE_ADMIN_URL: admin.url },
        stdout: (text) => (stdout += text),
        stderr: (text) => (stderr += text),
        progressStream: process.stderr,
      });
    expect(await run(["portal-link", "--org", ORG])).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ organizationUuid: ORG, url: expect.stringMatching(/\/portal\/link\?token=/) });
    expect(await run(["portal-link"])).toBe(2);
    expect(stderr).toContain("--org");
  });
});
