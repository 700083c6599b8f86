import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { EVENT_TYPES } from "@novatrade/domain";
import { adminEndpoints, DEMO_DESCRIPTION, runDemo } from "@novatrade/demo";
import { adminEnv, apiClient, startTestAdmin, TEST_BOOTSTRAP_KEY, type TestAdmin } from "../support/admin.js";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { dropSchema, newSchemaName } from "../support/projector.js";
import { waitUntil } from "../support/wait-until.js";

/**
 * `make demo`'s core program against the real broker and registry, with the router, sender and
 * admin API running (the demo registers its endpoint through the admin API): every one of the ten event types reaches the demo's receiver, verified under both
 * signature schemes, and nothing is refused.
 */
describe("make demo (runDemo against a running dispatcher)", () => {
  let pipeline: Pipeline;
  let admin: TestAdmin;
  const schema = newSchemaName();

  beforeAll(async () => {
    pipeline = await startPipeline();
    await pipeline.startRouter();
    await pipeline.startSender();
    admin = await startTestAdmin(adminEnv(pipeline, schema));
  });

  afterAll(async () => {
    await admin?.stop();
    await pipeline?.close();
    await dropSchema(schema);
  });

  test("all ten event types are delivered, signed and verified; the endpoint is kept paused for the portal, an earlier run's is deleted", async () => {
    const lines: string[] = [];
    const organizationUuid = randomUUID();
    const endpoints = adminEndpoints({ baseUrl: admin.url, operatorKey: TEST_BOOTSTRAP_KEY });
    const earlier = await endpoints.create(organizationUuid, { url: "http://127.0.0.1:9/earlier", description: DEMO_DESCRIPTION, eventTypes: ["kyc.*"] });
    const result = await runDemo({
      organizationUuid,
      endpoints,
      events: pipeline.events,
      print: (line) => lines.push(line),
      clock: Date.now,
      receiverHost: "127.0.0.1",
      receiverPort: 0,
      timeoutMs: 90_000,
      probeIntervalMs: 1_000,
    });

    expect([...result.received.keys()].sort()).toEqual([...EVENT_TYPES].sort());
    expect(result.rejected).toBe(0);
    for (const [type, event] of result.received) {
      expect(event.type).toBe(type);
      expect(event.organizationUuid).toBe(result.organizationUuid);
      expect(event.source).toBe(type.startsWith("webhook.") ? "SYSTEM" : "WEB_APP");
    }
    expect(lines.filter((line) => line.startsWith("✓ verified")).length).toBeGreaterThanOrEqual(EVENT_TYPES.length);
    // Reruns replace the demo's endpoint: the earlier run's is gone from the services' view …
    await waitUntil(() => pipeline.router!.directory.isDeleted(earlier.endpointId), { what: "the router to read the earlier endpoint's deletion" });
    // … and this run's is kept, paused (its receiver stopped), saying why.
    const api = apiClient(admin.url, TEST_BOOTSTRAP_KEY, { "x-organization-uuid": organizationUuid });
    const health = await api("GET", `/v1/endpoints/${result.endpointId}/health`);
    expect(health.body).toMatchObject({ status: "PAUSED", pausedBy: { kind: "operator", reason: "make demo finished: its receiver has stopped" } });
    expect((await api("GET", "/v1/endpoints")).body.data.map((endpoint: { endpointId: string }) => endpoint.endpointId)).toEqual([result.endpointId]);
    // The link make demo prints opens on the endpoint's page, its deliveries listed.
    const opened = await fetch(await endpoints.portalLink(organizationUuid, result.endpointId), { redirect: "manual" });
    expect(opened.headers.get("location")).toBe(`/portal/endpoints/${result.endpointId}`);
    const cookie = opened.headers.get("set-cookie")!.split(";")[0]!;
    const page = await (await fetch(`${admin.url}/portal/endpoints/${result.endpointId}`, { headers: { cookie } })).text();
    expect(page).toContain("make demo finished: its receiver has stopped");
  });
});
