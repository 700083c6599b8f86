import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { adminEnv, apiClient, organizationKey, startTestAdmin, type TestAdmin } from "../support/admin.js";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { dropSchema, newSchemaName, projectorEnv, startTestProjector, type TestProjector } from "../support/projector.js";
import { waitUntil } from "../support/wait-until.js";

/*
 * The reconciliation feeds (polling beside webhooks) over the projector's tables, fed by real
 * events through the broker: strong ETags, 304 on If-None-Match, a new ETag after a new event,
 * cursor pagination, and only the caller's organization.
 */

const ORG_A = "0a0a0a0a-3333-4222-8333-444455556666";
const ORG_B = "0b0b0b0b-3333-4222-8333-444455556666";

let pipeline: Pipeline;
let projector: TestProjector;
let admin: TestAdmin;
const schema = newSchemaName();
let keyA: string;

function statusChanged(orderId: string, toStatus: string) {
  return { orderId, orderReference: orderId.toUpperCase(), fromStatus: null, toStatus, missingRequirements: [], changedAt: new Date().toISOString() };
}

beforeAll(async () => {
  pipeline = await startPipeline();
  projector = await startTestProjector(projectorEnv(pipeline, schema));
  admin = await startTestAdmin(adminEnv(pipeline, schema));
  ({ key: keyA } = await organizationKey(admin.url, ORG_A));
});

afterAll(async () => {
  await admin?.stop();
  await projector?.stop();
  await pipeline?.close();
  await dropSchema(schema);
});

describe("GET /v1/compliance/rollup", () => {
  test("strong ETag, 304 while nothing changed, a new ETag after a new event, cursor pagination, own organization only", async () => {
    const api = apiClient(admin.url, keyA);
    for (const order of ["ord-a", "ord-b", "ord-c"]) await pipeline.publish({ type: "compliance.status_changed", organizationUuid: ORG_A, data: statusChanged(order, "INCOMPLETE") });
    await pipeline.publish({ type: "compliance.status_changed", organizationUuid: ORG_B, data: statusChanged("ord-other", "VALID") });
    const first = await waitUntil(async () => {
      const answer = await api("GET", "/v1/compliance/rollup");
      return answer.body.data?.length === 3 ? answer : undefined;
    }, { what: "three orders in the rollup", timeoutMs: 90_000 });
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[^"]+"$/); // strong: no W/
    expect(first.body.data.map((row: { orderId: string }) => row.orderId)).toEqual(["ord-a", "ord-b", "ord-c"]);
    expect(JSON.stringify(first.body)).not.toContain("ord-other");

    const unchanged = await api("GET", "/v1/compliance/rollup", undefined, { "if-none-match": etag });
    expect(unchanged.status).toBe(304);
    expect(unchanged.body).toBeNull();
    expect(unchanged.headers.get("etag")).toBe(etag);

    // Pages of one: every order once, in order.
    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: any } = await api("GET", `/v1/compliance/rollup?limit=1${cursor ? `&cursor=${cursor}` : ""}`);
      pages.push(...page.body.data.map((row: { orderId: string }) => row.orderId));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(pages).toEqual(["ord-a", "ord-b", "ord-c"]);

    await pipeline.publish({ type: "compliance.status_changed", organizationUuid: ORG_A, data: statusChanged("ord-b", "VALID") });
    const changed = await waitUntil(async () => {
      const answer = await api("GET", "/v1/compliance/rollup", undefined, { "if-none-match": etag });
      return answer.status === 200 ? answer : undefined;
    }, { what: "the rollup to change", timeoutMs: 90_000 });
    expect(changed.headers.get("etag")).not.toBe(etag);
    expect(changed.body.data.find((row: { orderId: string }) => row.orderId === "ord-b").status).toBe("VALID");
    expect((await api("GET", "/v1/compliance/rollup", undefined, { "if-none-match": changed.headers.get("etag")! })).status).toBe(304);
  });
});

describe("GET /v1/events", () => {
  test("the organization's events newest first in Stripe's list shape, strong ETag, 304, a new ETag after a new event", async () => {
    const api = apiClient(admin.url, keyA);
    const ids: string[] = [];
    for (let index = 0; index < 3; index++) ids.push(await pipeline.publish({ type: "compliance.status_changed", organizationUuid: ORG_A, data: statusChanged(`ord-e${index}`, "VALID") }));
    const other = await pipeline.publish({ type: "compliance.status_changed", organizationUuid: ORG_B, data: statusChanged("ord-x", "VALID") });
    const first = await waitUntil(async () => {
      const answer = await api("GET", "/v1/events?limit=100");
      return ids.every((id) => answer.body.data?.some((event: { id: string }) => event.id === id)) ? answer : undefined;
    }, { what: "the events in the feed", timeoutMs: 90_000 });
    expect(first.body).toMatchObject({ object: "list", url: "/v1/events", has_more: false, next_cursor: null });
    expect(first.body.data[0]).toMatchObject({ object: "event", type: "compliance.status_changed" });
    expect(first.body.data.some((event: { id: string }) => event.id === other)).toBe(false);
    const created = first.body.data.map((event: { created: number }) => event.created);
    expect([...created].sort((a, b) => b - a)).toEqual(created);

    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[^"]+"$/);
    const unchanged = await api("GET", "/v1/events?limit=100", undefined, { "if-none-match": etag });
    expect(unchanged.status).toBe(304);
    expect(unchanged.body).toBeNull();

    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: any } = await api("GET", `/v1/events?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      pages.push(...page.body.data.map((event: { id: string }) => event.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(pages).toEqual(first.body.data.map((event: { id: string }) => event.id));

    const newest = await pipeline.publish({ type: "compliance.status_changed", organizationUuid: ORG_A, data: statusChanged("ord-new", "INCOMPLETE") });
    const changed = await waitUntil(async () => {
      const answer = await api("GET", "/v1/events?limit=100", undefined, { "if-none-match": etag });
      return answer.status === 200 ? answer : undefined;
    }, { what: "the feed to change", timeoutMs: 90_000 });
    expect(changed.headers.get("etag")).not.toBe(etag);
    expect(changed.body.data[0].id).toBe(newest);
  });
});
