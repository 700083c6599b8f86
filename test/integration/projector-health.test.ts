import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { autoPauseEventId } from "@novatrade/domain";
import { withStatus } from "@novatrade/endpoint-config";
import { outcomeRecord, produceOutcomes, projectorSuite, waitForRows } from "../support/projector.js";
import { waitUntil } from "../support/wait-until.js";

/*
 * Endpoint health and auto-pause (SPEC §4) from outcome records written straight to the
 * outcome topic, as the sender writes them: the projector is the unit under test, and its clock
 * is injected, so 72 hours pass in a moment. The full pipeline (real sender, receivers) is in
 * projector-pipeline.test.ts.
 */

const H = 60 * 60 * 1000;
let clock = Date.now();
const suite = projectorSuite({ beforeAll, afterAll }, () => clock);

async function health(endpointId: string) {
  return (await suite.db("endpoint_health").where({ endpoint_id: endpointId }).first()) as Record<string, unknown> | undefined;
}

async function newEndpoint() {
  const { config } = await suite.pipeline.addEndpoint({ url: "https://example.com/hooks", eventTypes: ["kyc.*"] });
  await waitForRows(suite.db, "endpoints", 1, { endpoint_id: config.endpointId });
  return config;
}

function metaEventsFor(endpointId: string) {
  return suite.pipeline.domainEvents.records.filter((e) => e.type === "webhook.endpoint_auto_paused" && (e.data as { endpointId: string }).endpointId === endpointId);
}

describe("projector: endpoint health and auto-pause", () => {
  test("the 20th consecutive failed attempt pauses; SKIPPED outcomes never count; one meta event", async () => {
    const endpoint = await newEndpoint();
    const t = Date.now() + 1000;
    const outcomes = [
      ...Array.from({ length: 19 }, (_, i) => outcomeRecord({ endpointId: endpoint.endpointId, attemptedAt: t + i })),
      ...Array.from({ length: 5 }, (_, i) => outcomeRecord({ endpointId: endpoint.endpointId, attemptedAt: t + 100 + i, result: "SKIPPED", attempt: 0, statusCode: null })),
    ];
    await produceOutcomes(suite.pipeline, outcomes);
    await waitForRows(suite.db, "deliveries", 24, { endpoint_id: endpoint.endpointId });
    await waitUntil(async () => (await health(endpoint.endpointId))?.consecutive_failures === 19, { what: "19 failures folded in" });
    expect(await health(endpoint.endpointId)).toMatchObject({ status: "ACTIVE", pause_state: null });

    await produceOutcomes(suite.pipeline, [outcomeRecord({ endpointId: endpoint.endpointId, attemptedAt: t + 200, result: "FAILED_TERMINAL", statusCode: 503 })]);
    await waitUntil(async () => (await health(endpoint.endpointId))?.pause_state === "DONE", { what: "the pause carried out" });
    const row = await health(endpoint.endpointId);
    expect(row).toMatchObject({ status: "PAUSED", consecutive_failures: 20, pause_reason: "CONSECUTIVE_FAILURES", last_status_code: 503, episodes: 1 });
    // The configuration's next revision, status PAUSED, on the compacted topic.
    await waitUntil(async () => (await suite.db("endpoints").where({ endpoint_id: endpoint.endpointId }).first())?.status === "PAUSED", { what: "PAUSED projected back" });
    const projected = await suite.db("endpoints").where({ endpoint_id: endpoint.endpointId }).first();
    expect(projected.revision).toBe(endpoint.revision + 1);
    const [meta] = await suite.pipeline.domainEvents.waitFor(() => metaEventsFor(endpoint.endpointId).length > 0, "the meta event").then(() => metaEventsFor(endpoint.endpointId));
    expect(meta).toMatchObject({
      id: autoPauseEventId(endpoint.endpointId, t),
      source: "SYSTEM",
      organizationUuid: endpoint.organizationUuid,
      data: { endpointId: endpoint.endpointId, reason: "CONSECUTIVE_FAILURES", consecutiveFailures: 20, lastStatusCode: 503 },
    });

    // More failures of attempts that were in flight: counted, never a second pause or event.
    // The sentinel endpoint's pause proves those outcomes were read before we look.
    const sentinel = await newEndpoint();
    await produceOutcomes(suite.pipeline, [
      ...Array.from({ length: 5 }, (_, i) => outcomeRecord({ endpointId: endpoint.endpointId, attemptedAt: t + 300 + i })),
      ...Array.from({ length: 20 }, (_, i) => outcomeRecord({ endpointId: sentinel.endpointId, attemptedAt: t + 300 + i })),
    ]);
    await waitUntil(async () => (await health(sentinel.endpointId))?.pause_state === "DONE", { what: "the sentinel paused" });
    await suite.pipeline.domainEvents.waitFor(() => metaEventsFor(sentinel.endpointId).length === 1, "the sentinel's meta event");
    expect(await health(endpoint.endpointId)).toMatchObject({ consecutive_failures: 25, episodes: 1 });
    expect(metaEventsFor(endpoint.endpointId)).toHaveLength(1);
  });

  test("a success in between resets the streak", async () => {
    const endpoint = await newEndpoint();
    const t = Date.now() + 1000;
    await produceOutcomes(suite.pipeline, [
      ...Array.from({ length: 19 }, (_, i) => outcomeRecord({ endpointId: endpoint.endpointId, attemptedAt: t + i })),
      outcomeRecord({ endpointId: endpoint.endpointId, attemptedAt: t + 50, result: "SUCCEEDED" }),
      ...Array.from({ length: 19 }, (_, i) => outcomeRecord({ endpointId: endpoint.endpointId, attemptedAt: t + 100 + i })),
    ]);
    await waitForRows(suite.db, "deliveries", 39, { endpoint_id: endpoint.endpointId });
    await waitUntil(async () => (await health(endpoint.endpointId))?.consecutive_failures === 19, { what: "the second streak folded in" });
    const row = await health(endpoint.endpointId);
    expect(row).toMatchObject({ status: "ACTIVE", pause_state: null, episodes: 0 });
    expect((row!.last_success_at as Date).getTime()).toBe(t + 50);
    expect((row!.failing_since as Date).getTime()).toBe(t + 100);
  });

  test("72 h of continuous failure pauses: on the next failure, and by the sweep when no attempt comes", async () => {
    const byFailure = await newEndpoint();
    const bySweep = await newEndpoint();
    const t0 = Date.now() + 1000;
    clock = t0 + 2 * H;
    await produceOutcomes(suite.pipeline, [
      outcomeRecord({ endpointId: byFailure.endpointId, attemptedAt: t0 }),
      outcomeRecord({ endpointId: bySweep.endpointId, attemptedAt: t0 }),
      outcomeRecord({ endpointId: bySweep.endpointId, attemptedAt: t0 + H }),
      // A success older than the streak, read late, does not end it.
      outcomeRecord({ endpointId: bySweep.endpointId, attemptedAt: t0 - 1, result: "SUCCEEDED" }),
      outcomeRecord({ endpointId: byFailure.endpointId, attemptedAt: t0 + 72 * H }),
    ]);
    await waitUntil(async () => (await health(byFailure.endpointId))?.pause_state === "DONE", { what: "the pause on the failure at 72 h" });
    expect(await health(byFailure.endpointId)).toMatchObject({ status: "PAUSED", consecutive_failures: 2, pause_reason: "FAILING_TOO_LONG" });
    await waitUntil(async () => (await health(bySweep.endpointId))?.last_success_at != null, { what: "the late success folded in" });

    clock = t0 + 72 * H - 1;
    expect(await suite.projector.app.sweep()).not.toContain(bySweep.endpointId);
    expect(await health(bySweep.endpointId)).toMatchObject({ status: "ACTIVE", consecutive_failures: 2 });

    clock = t0 + 72 * H;
    expect(await suite.projector.app.sweep()).toEqual([bySweep.endpointId]);
    expect(await health(bySweep.endpointId)).toMatchObject({ status: "PAUSED", pause_state: "DONE", pause_reason: "FAILING_TOO_LONG" });
    await suite.pipeline.domainEvents.waitFor(() => metaEventsFor(bySweep.endpointId).length === 1, "the sweep's meta event");
    expect(metaEventsFor(bySweep.endpointId)[0]).toMatchObject({
      id: autoPauseEventId(bySweep.endpointId, t0),
      data: { reason: "FAILING_TOO_LONG", consecutiveFailures: 2, failingSince: new Date(t0).toISOString() },
    });
    // A second sweep finds nothing more to do.
    expect(await suite.projector.app.sweep()).toEqual([]);
    clock = Date.now();
  });

  test("novatrade_endpoints_paused counts paused endpoints by reason: auto-paused, paused by hand, resumed", async () => {
    // Earlier tests' auto-pauses count once their PAUSED configuration has come back from the
    // config topic: wait for every one of them, or one landing mid-test moves the baseline.
    await waitUntil(async () => (await suite.db("endpoint_health").where({ status: "PAUSED" }).whereNot({ config_status: "PAUSED" }).count({ n: "*" }))[0]!.n == 0, {
      what: "earlier auto-pauses projected back",
    });
    const before = await suite.projector.app.countPaused();
    const auto = await newEndpoint();
    const t = Date.now() + 1000;
    await produceOutcomes(suite.pipeline, Array.from({ length: 20 }, (_, i) => outcomeRecord({ endpointId: auto.endpointId, attemptedAt: t + i })));
    await waitUntil(async () => (await suite.db("endpoints").where({ endpoint_id: auto.endpointId }).first())?.status === "PAUSED", { what: "auto-paused" });
    await waitUntil(async () => (await suite.projector.app.countPaused()).auto === before.auto + 1, { what: "auto counted" });

    const manual = await newEndpoint();
    await suite.pipeline.updateEndpoint(withStatus(manual, "PAUSED", Date.now()));
    await waitUntil(async () => (await suite.projector.app.countPaused()).manual === before.manual + 1, { what: "manual counted" });
    expect(await suite.projector.app.countPaused()).toEqual({ auto: before.auto + 1, manual: before.manual + 1 });
    expect(await suite.projector.registry.getSingleMetricAsString("novatrade_endpoints_paused")).toMatch(new RegExp(`novatrade_endpoints_paused\\{reason="manual"[^}]*\\} ${before.manual + 1}\\b`));

    const paused = await suite.db("endpoints").where({ endpoint_id: manual.endpointId }).first();
    await suite.pipeline.updateEndpoint(withStatus({ ...manual, status: "PAUSED", revision: paused.revision, updatedAt: paused.updated_at.getTime() }, "ACTIVE", Date.now() + 1));
    await waitUntil(async () => (await suite.projector.app.countPaused()).manual === before.manual, { what: "resume uncounted" });
  });

  test("resuming by hand starts a new episode with a new event id", async () => {
    const endpoint = await newEndpoint();
    const t = Date.now() + 1000;
    await produceOutcomes(suite.pipeline, Array.from({ length: 20 }, (_, i) => outcomeRecord({ endpointId: endpoint.endpointId, attemptedAt: t + i })));
    await waitUntil(async () => (await suite.db("endpoints").where({ endpoint_id: endpoint.endpointId }).first())?.status === "PAUSED", { what: "paused" });
    const paused = await suite.db("endpoints").where({ endpoint_id: endpoint.endpointId }).first();
    // The operator resumes: the next revision, ACTIVE.
    await suite.pipeline.updateEndpoint(withStatus({ ...endpoint, status: "PAUSED", revision: paused.revision, updatedAt: paused.updated_at.getTime() }, "ACTIVE", t + 1000));
    await waitUntil(async () => (await health(endpoint.endpointId))?.status === "ACTIVE", { what: "resume projected" });
    expect(await health(endpoint.endpointId)).toMatchObject({ consecutive_failures: 0, failing_since: null });
    await produceOutcomes(suite.pipeline, Array.from({ length: 20 }, (_, i) => outcomeRecord({ endpointId: endpoint.endpointId, attemptedAt: t + 2000 + i })));
    await waitUntil(async () => (await health(endpoint.endpointId))?.episodes === 2 && (await health(endpoint.endpointId))?.pause_state === "DONE", { what: "second episode" });
    await suite.pipeline.domainEvents.waitFor(() => metaEventsFor(endpoint.endpointId).length === 2, "two meta events");
    expect(metaEventsFor(endpoint.endpointId).map((e) => e.id)).toEqual([autoPauseEventId(endpoint.endpointId, t), autoPauseEventId(endpoint.endpointId, t + 2000)]);
  });
});
