import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { EVENT_TYPES } from "@novatrade/domain";
import { adminEndpoints, runDemo } from "@novatrade/demo";
import { adminEnv, startTestAdmin, TEST_BOOTSTRAP_KEY, type TestAdmin } from "../support/admin.js";
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

  test("all ten event types are delivered, signed and verified; the endpoint is removed afterwards", async () => {
    const lines: string[] = [];
    const result = await runDemo({
      endpoints: adminEndpoints({ baseUrl: admin.url, operatorKey: TEST_BOOTSTRAP_KEY }),
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
    // The demo cleans up after itself: its endpoint is gone from the services' view.
    await waitUntil(() => pipeline.router!.directory.isDeleted(result.endpointId), { what: "the router to read the endpoint's deletion" });
  });
});
