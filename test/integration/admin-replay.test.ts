import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { deliveryId as liveDeliveryId, deliveryTopic } from "@novatrade/domain";
import { offsetRangeByTime } from "@novatrade/kafka";
import { ReplayJobStore } from "../../services/admin/src/replay-job-store.js";
import { adminEnv, apiClient, organizationKey, startTestAdmin, type TestAdmin, VIES } from "../support/admin.js";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { dropSchema, newSchemaName, openDatabase, projectorEnv, startTestProjector, type TestProjector } from "../support/projector.js";
import { startReceiver, type ReceivedRequest, type Receiver } from "../support/receiver.js";
import { waitUntil } from "../support/wait-until.js";
import type { Database } from "@novatrade/database";

/*
 * Replay through the admin service against the real broker, registry and PostgreSQL, with the
 * router, sender and projector running and loopback receivers: a time range of one endpoint
 * (offsets by timestamp on its delivery topic, read by the admin's own reader) while live
 * traffic continues, a backfill from the domain topic, and jobs that outlive an admin.
 */

const ORG_A = "0a0a0a0a-2222-4222-8333-444455556666";
const ORG_B = "0b0b0b0b-2222-4222-8333-444455556666";
const STATUS = { orderId: "ord-1", orderReference: "ORD-1", fromStatus: "INCOMPLETE", toStatus: "VALID", missingRequirements: [], changedAt: "2026-11-25T10:00:00Z" };

let pipeline: Pipeline;
let projector: TestProjector;
let admin: TestAdmin;
let db: Database;
const schema = newSchemaName();
let keyA: string;
const receivers: Receiver[] = [];

beforeAll(async () => {
  pipeline = await startPipeline();
  await pipeline.startRouter();
  await pipeline.startSender();
  // The failed-only test fails 30 attempts in a row; auto-pause (20) would hold its deliveries.
  projector = await startTestProjector(projectorEnv(pipeline, schema, { PROJECTOR_AUTO_PAUSE_FAILURES: "1000" }));
  admin = await startTestAdmin(adminEnv(pipeline, schema));
  db = openDatabase(schema);
  ({ key: keyA } = await organizationKey(admin.url, ORG_A));
});

afterAll(async () => {
  await admin?.stop();
  await projector?.stop();
  await db?.destroy();
  for (const receiver of receivers) await receiver.close();
  await pipeline?.close();
  await dropSchema(schema);
});

async function newEndpoint(eventTypes: string[]): Promise<{ endpointId: string; receiver: Receiver }> {
  const receiver = await startReceiver();
  receivers.push(receiver);
  const created = await apiClient(admin.url, keyA)("POST", "/v1/endpoints", { url: receiver.url, eventTypes });
  expect(created.status).toBe(201);
  const endpointId: string = created.body.endpointId;
  await waitUntil(() => pipeline.router?.directory.get(endpointId) && pipeline.sender?.directory.get(endpointId), { what: `router and sender to see ${endpointId}` });
  return { endpointId, receiver };
}

function publishKyc(count: number, organizationUuid = ORG_A): Promise<string[]> {
  return Promise.all(Array.from({ length: count }, () => pipeline.publish({ type: "kyc.vies_check_failed", organizationUuid, data: VIES })));
}

/** Requests that carry a replayed delivery: their delivery id is not the live one. */
function replayedRequests(receiver: Receiver, endpointId: string): ReceivedRequest[] {
  return receiver.requests.filter((request) => request.headers["x-novatrade-delivery-id"] !== liveDeliveryId(request.json.id, endpointId));
}

async function finishedJob(jobId: string) {
  const api = apiClient(admin.url, keyA);
  return waitUntil(
    async () => {
      const answer = await api("GET", `/v1/replays/${jobId}`);
      return answer.body.state === "succeeded" || answer.body.state === "failed" ? answer.body : undefined;
    },
    { what: `replay job ${jobId} to finish`, timeoutMs: 120_000 },
  );
}

describe("replay of a time range", () => {
  test("re-delivers exactly the deliveries in the range, with their event ids, while live traffic continues and the sender group's offsets are untouched", async () => {
    const { endpointId, receiver } = await newEndpoint(["kyc.*"]);
    const before = await publishKyc(4);
    await receiver.waitForRequests(4, 60_000);
    const from = Date.now() + 1;
    await waitUntil(() => Date.now() > from, { what: "the clock to pass the start" });
    const inside = await publishKyc(5);
    await receiver.waitForRequests(9, 60_000);
    const to = Date.now() + 1;
    await waitUntil(() => Date.now() > to, { what: "the clock to pass the end" });
    const after = await publishKyc(3);
    await receiver.waitForRequests(12, 60_000);
    const topic = deliveryTopic(pipeline.naming, endpointId);
    const senderGroup = pipeline.sender!.service.deliveryGroupIdOf(topic);
    const committedBefore = await pipeline.kafka.admin.fetchGroupOffsets(senderGroup, [topic]);

    const started = await apiClient(admin.url, keyA)("POST", "/v1/replays", { kind: "range", endpointId, from: new Date(from).toISOString(), to: new Date(to).toISOString() });
    expect(started.status).toBe(202);
    expect(started.headers.get("location")).toBe(`/v1/replays/${started.body.jobId}`);
    // Live traffic to the same endpoint while the replay runs.
    const live = await publishKyc(4);
    const job = await finishedJob(started.body.jobId);
    expect(job).toMatchObject({ state: "succeeded", kind: "range", total: 5, scanned: 5, requeued: 5 });

    await waitUntil(() => live.every((id) => receiver.eventIds().has(id)) && replayedRequests(receiver, endpointId).length >= 5, {
      what: "the live events and the five replays",
      timeoutMs: 90_000,
    });
    const replayed = replayedRequests(receiver, endpointId);
    expect(replayed.map((request) => request.json.id).sort()).toEqual([...inside].sort());
    for (const id of [...before, ...after, ...live]) expect(replayed.map((request) => request.json.id)).not.toContain(id);
    // Marked as a replay in the history, under a delivery id of its own.
    const history = await apiClient(admin.url, keyA)("GET", `/v1/deliveries?eventId=${inside[0]}`);
    await waitUntil(async () => {
      const page = await apiClient(admin.url, keyA)("GET", `/v1/deliveries?eventId=${inside[0]}`);
      return page.body.data.some((d: { replayId: string | null }) => d.replayId === started.body.jobId);
    }, { what: "the replayed delivery in the history", timeoutMs: 90_000 });
    expect(history.status).toBe(200);
    // The sender group's committed offsets only ever moved forward: nobody re-sought them.
    const committedAfter = await pipeline.kafka.admin.fetchGroupOffsets(senderGroup, [topic]);
    for (const entry of committedBefore) {
      const later = committedAfter.find((candidate) => candidate.partition === entry.partition);
      expect(BigInt(later?.offset ?? "0")).toBeGreaterThanOrEqual(BigInt(entry.offset ?? "0"));
    }
  });

  test("only failed ones, and only some types: failed deliveries of the chosen types in the range", async () => {
    let failing = true;
    const receiver = await startReceiver(() => (failing ? { status: 500, body: "down" } : { status: 200, body: "ok" }));
    receivers.push(receiver);
    const created = await apiClient(admin.url, keyA)("POST", "/v1/endpoints", { url: receiver.url, eventTypes: ["kyc.*", "compliance.*"] });
    const endpointId: string = created.body.endpointId;
    await waitUntil(() => pipeline.router?.directory.get(endpointId) && pipeline.sender?.directory.get(endpointId), { what: "services to see the endpoint" });
    const from = Date.now();
    const failedKyc = await publishKyc(2);
    const failedStatus = await pipeline.publish({ type: "compliance.status_changed", organizationUuid: ORG_A, data: STATUS });
    await waitUntil(async () => {
      const page = await apiClient(admin.url, keyA)("GET", `/v1/deliveries?endpointId=${endpointId}&status=FAILED_TERMINAL`);
      return page.body.data.length === 3;
    }, { what: "three terminal failures in the history (fast schedule)", timeoutMs: 120_000 });
    failing = false;
    const succeeded = await publishKyc(1);
    await waitUntil(() => receiver.requests.some((request) => request.json.id === succeeded[0]) && receiver.requests.at(-1)!.json.id === succeeded[0], { what: "a success" });
    const to = Date.now() + 1;
    await waitUntil(() => Date.now() > to, { what: "the clock to pass the end" });

    const started = await apiClient(admin.url, keyA)("POST", "/v1/replays", {
      kind: "range", endpointId, from: new Date(from).toISOString(), to: new Date(to).toISOString(), failedOnly: true, eventTypes: ["kyc.*"],
    });
    const job = await finishedJob(started.body.jobId);
    expect(job).toMatchObject({ state: "succeeded", total: 4, scanned: 4, requeued: 2 });
    await waitUntil(() => replayedRequests(receiver, endpointId).length >= 2, { what: "the two replays" });
    // Sentinel: a live event after the replay arrives, and by then no third replay did.
    const sentinel = await publishKyc(1);
    await waitUntil(() => receiver.eventIds().has(sentinel[0]!), { what: "the sentinel" });
    expect(replayedRequests(receiver, endpointId).map((request) => request.json.id).sort()).toEqual([...failedKyc].sort());
    expect(replayedRequests(receiver, endpointId).map((request) => request.json.id)).not.toContain(failedStatus);
  });
});

describe("backfill", () => {
  test("delivers exactly the organization's matching events since the time given to the new endpoint only", async () => {
    const { receiver: bystander } = await newEndpoint(["kyc.*"]);
    const [old] = await publishKyc(1);
    const since = Date.now() + 1;
    await waitUntil(() => Date.now() > since, { what: "the clock to pass since" });
    const wanted = await publishKyc(3);
    const [otherOrganization] = await publishKyc(1, ORG_B);
    const otherType = await pipeline.publish({ type: "compliance.status_changed", organizationUuid: ORG_A, data: STATUS });
    const echo = await pipeline.publish({ type: "kyc.vies_check_failed", organizationUuid: ORG_A, source: "API", data: VIES });
    await waitUntil(() => wanted.every((id) => bystander.eventIds().has(id)), { what: "the bystander's live deliveries" });
    const bystanderCount = bystander.requests.length;

    const { endpointId, receiver } = await newEndpoint(["kyc.*"]);
    const started = await apiClient(admin.url, keyA)("POST", "/v1/replays", { kind: "backfill", endpointId, since: new Date(since).toISOString() });
    expect(started.status).toBe(202);
    const job = await finishedJob(started.body.jobId);
    expect(job).toMatchObject({ state: "succeeded", kind: "backfill", requeued: 3 });
    expect(job.scanned).toBeGreaterThanOrEqual(6);
    await waitUntil(() => wanted.every((id) => receiver.eventIds().has(id)), { what: "the backfilled events" });
    // Sentinel: a live event after the backfill arrives; nothing else did meanwhile.
    const [sentinel] = await publishKyc(1);
    await waitUntil(() => receiver.eventIds().has(sentinel!), { what: "the sentinel" });
    expect([...receiver.eventIds()].sort()).toEqual([...wanted, sentinel].sort());
    for (const id of [old, otherOrganization, otherType, echo]) expect(receiver.eventIds().has(id!)).toBe(false);
    // Only the new endpoint got the backfill.
    await waitUntil(() => bystander.eventIds().has(sentinel!), { what: "the bystander's sentinel" });
    expect(bystander.requests.length).toBe(bystanderCount + 1);
  });
});

describe("replay jobs outlive the admin", () => {
  test("a job left running by a stopped admin is resumed from its checkpoint by the next one (once, with two admins starting); one whose endpoint is gone is reported failed", async () => {
    const { endpointId, receiver } = await newEndpoint(["kyc.*"]);
    const from = Date.now();
    const events = await publishKyc(6);
    await receiver.waitForRequests(6, 60_000);
    const to = Date.now() + 1;
    await waitUntil(() => Date.now() > to, { what: "the clock to pass the end" });

    // What a crashed admin leaves behind: a running job with its first two records done.
    const jobs = new ReplayJobStore(db, Date.now);
    const topic = deliveryTopic(pipeline.naming, endpointId);
    const ranges = await offsetRangeByTime(pipeline.kafka, topic, from, to);
    const job = await jobs.create({ organizationUuid: ORG_A, endpointId, params: { kind: "range", from, to, failedOnly: false, eventTypes: null } });
    await jobs.start(job.jobId, ranges, 6);
    const [range] = ranges;
    await jobs.progress(job.jobId, { scanned: 2, requeued: 2, checkpoint: { [range!.partition]: String(BigInt(range!.start) + 2n) } });
    const orphan = await jobs.create({ organizationUuid: ORG_A, endpointId: "ep_deleted0000000000000000000000", params: { kind: "backfill", since: from } });

    // Two admins start at once: both find the unfinished jobs, one runs each.
    const [next, other] = await Promise.all([startTestAdmin(adminEnv(pipeline, schema)), startTestAdmin(adminEnv(pipeline, schema))]);
    try {
      const api = apiClient(next.url, keyA);
      const resumed = await waitUntil(async () => {
        const answer = await api("GET", `/v1/replays/${job.jobId}`);
        return answer.body.state === "succeeded" ? answer.body : undefined;
      }, { what: "the resumed job", timeoutMs: 120_000 });
      expect(resumed).toMatchObject({ total: 6, scanned: 6, requeued: 6 });
      const failed = await waitUntil(async () => {
        const answer = await api("GET", `/v1/replays/${orphan.jobId}`);
        return answer.body.state === "failed" ? answer.body : undefined;
      }, { what: "the orphan job to be reported failed" });
      expect(failed.error).toContain("no longer exists");
      // Only the four records after the checkpoint were re-queued by the resumed job.
      await waitUntil(() => replayedRequests(receiver, endpointId).length >= 4, { what: "four replays" });
      const [sentinel] = await publishKyc(1);
      await waitUntil(() => receiver.eventIds().has(sentinel!), { what: "the sentinel" });
      const replayedIds = replayedRequests(receiver, endpointId).map((request) => request.json.id);
      expect(replayedIds).toHaveLength(4);
      expect(new Set(replayedIds).size).toBe(4);
      for (const id of replayedIds) expect(events).toContain(id);
    } finally {
      await next.stop();
      await other.stop();
    }
  });
});
