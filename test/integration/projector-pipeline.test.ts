import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { sampleEvent } from "@novatrade/event-codec";
import type { Database } from "@novatrade/database";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { dropSchema, newSchemaName, openDatabase, projectorEnv, startTestProjector, type TestProjector } from "../support/projector.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { waitUntil } from "../support/wait-until.js";

/*
 * Auto-pause through the whole dispatcher: the real router and sender deliver to loopback
 * receivers, the projector reads their outcomes, pauses the failing endpoint through the
 * endpoint-config topic, and its meta event is routed like any other event.
 */

let pipeline: Pipeline;
let projector: TestProjector;
let db: Database;
const schema = newSchemaName();
const receivers: Receiver[] = [];

beforeAll(async () => {
  pipeline = await startPipeline();
  await pipeline.startRouter();
  await pipeline.startSender();
  projector = await startTestProjector(projectorEnv(pipeline, schema));
  db = openDatabase(schema);
});

afterAll(async () => {
  await projector?.stop();
  await db?.destroy();
  await pipeline?.close();
  await Promise.all(receivers.map((receiver) => receiver.close()));
  await dropSchema(schema);
});

describe("projector in the pipeline", () => {
  test("20 failed attempts pause the endpoint: one meta event reaches the organization's webhook.* endpoint, deliveries are held, resume delivers them", async () => {
    const organizationUuid = randomUUID();
    let failing = true;
    const broken = await startReceiver(() => (failing ? { status: 500, body: "down" } : { status: 200, body: "ok" }));
    const watcher = await startReceiver();
    receivers.push(broken, watcher);
    const { config: brokenEndpoint } = await pipeline.addEndpoint({ organizationUuid, url: broken.url, eventTypes: ["kyc.*"] });
    const { config: watcherEndpoint } = await pipeline.addEndpoint({ organizationUuid, url: watcher.url, eventTypes: ["webhook.*", "kyc.*"] });
    const publish = () => pipeline.publish({ type: "kyc.vies_check_failed", organizationUuid, data: sampleEvent("kyc.vies_check_failed").data });

    // Three events, ten attempts each on the compressed schedule: the 20th failure pauses.
    const failed = [await publish(), await publish(), await publish()];
    await waitUntil(() => pipeline.sender?.directory.get(brokenEndpoint.endpointId)?.status === "PAUSED", { what: "the sender to see the pause", timeoutMs: 90_000 });
    const paused = pipeline.sender!.directory.get(brokenEndpoint.endpointId)!;
    expect(paused.revision).toBe(brokenEndpoint.revision + 1);

    // The meta event is delivered to the webhook.* endpoint of the same organization.
    const [meta] = await waitUntil(() => {
      const found = watcher.requests.filter((r) => r.json.type === "webhook.endpoint_auto_paused");
      return found.length > 0 && found;
    }, { what: "the auto-pause event at the watcher" });
    expect(meta!.json).toMatchObject({ source: "SYSTEM", organizationUuid, data: { endpointId: brokenEndpoint.endpointId, reason: "CONSECUTIVE_FAILURES" } });
    const health = await db("endpoint_health").where({ endpoint_id: brokenEndpoint.endpointId }).first();
    expect(health).toMatchObject({ status: "PAUSED", pause_state: "DONE", pause_event_id: meta!.json.id, last_status_code: 500 });
    expect(health.consecutive_failures).toBeGreaterThanOrEqual(20);

    // Paused: new events are routed (the watcher gets them) but not attempted at the broken one.
    const attemptsAtPause = broken.requests.length;
    const held = [await publish(), await publish()];
    await waitUntil(() => held.every((id) => watcher.eventIds().has(id)), { what: "the watcher to get the held events" });
    // A sentinel after them: by the time the watcher has it, the sender has read past the held ones.
    const sentinel = await publish();
    await waitUntil(() => watcher.eventIds().has(sentinel), { what: "the sentinel at the watcher" });
    expect(broken.requests.length).toBe(attemptsAtPause);
    expect(pipeline.outcomes.records.filter((o) => o.endpointId === brokenEndpoint.endpointId && held.includes(o.eventId))).toEqual([]);

    // Resume (by hand, the next revision): everything held is delivered, nothing was spent.
    failing = false;
    await pipeline.resumeEndpoint(paused);
    await waitUntil(() => [...held, sentinel].every((id) => broken.eventIds().has(id)), { what: "the held events delivered after resume" });
    for (const id of held) {
      const delivered = broken.requests.filter((r) => r.json.id === id);
      expect(delivered[0]!.headers["x-novatrade-attempt"]).toBe("1");
    }
    // Exactly one meta event for the episode on the domain topic, and the resume started a new one.
    expect(pipeline.domainEvents.records.filter((e) => e.type === "webhook.endpoint_auto_paused")).toHaveLength(1);
    await waitUntil(async () => (await db("endpoint_health").where({ endpoint_id: brokenEndpoint.endpointId }).first())?.status === "ACTIVE", { what: "resume projected" });
    // The history shows the failed deliveries with all their attempts.
    const succeeded = async () =>
      (await db("deliveries").where({ endpoint_id: brokenEndpoint.endpointId, status: "SUCCEEDED" }).whereIn("event_id", [...held, sentinel])).length;
    await waitUntil(async () => (await succeeded()) === 3, { what: "the held deliveries' successes projected" });
    // The first three: each ends delivered (held mid-retry, then sent after resume) or failed
    // for good after ten attempts, with one attempt row per attempt.
    const finals = await waitUntil(async () => {
      const rows = await db("deliveries").where({ endpoint_id: brokenEndpoint.endpointId }).whereIn("event_id", failed);
      return rows.length === 3 && rows.every((row) => row.status === "SUCCEEDED" || row.status === "FAILED_TERMINAL") && rows;
    }, { what: "the first deliveries in a final state" });
    for (const row of finals) {
      const attempts = await db("attempts").where({ delivery_id: row.delivery_id }).orderBy("attempt");
      expect(attempts.map((a) => a.attempt)).toEqual(Array.from({ length: row.attempts }, (_, i) => i + 1));
      expect(attempts.at(-1).result).toBe(row.status);
    }
    expect(finals.filter((row) => row.status === "FAILED_TERMINAL").every((row) => row.attempts === 10)).toBe(true);
    expect(watcherEndpoint.status).toBe("ACTIVE");
  });
});
