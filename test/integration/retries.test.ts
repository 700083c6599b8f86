import { randomUUID } from "node:crypto";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { deliveryTopic, type EventEnvelope, type EventType } from "@novatrade/domain";
import { sampleEvent, type DeliveryOutcomeRecord, type DeliveryRequestRecord } from "@novatrade/event-codec";
import { PARKED_HEADER } from "../../services/sender/src/sender-service.js";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { startReceiver, type ReceivedRequest, type Receiver } from "../support/receiver.js";
import { waitUntil } from "../support/wait-until.js";

/*
 * Retries, terminal failure and pausing, through the real router and sender on the compressed
 * schedule (ten attempts 150 ms apart). Each test uses an organization of its own: tenancy keeps
 * its endpoints from seeing another test's events, and its meta events apart from the others'.
 */

const TERMINAL = "webhook.delivery_failed_terminal";

function attemptOf(request: ReceivedRequest): number {
  return Number(request.headers["x-novatrade-attempt"]);
}

function outcomesOf(pipeline: Pipeline, endpointId: string): DeliveryOutcomeRecord[] {
  return pipeline.outcomes.records.filter((outcome) => outcome.endpointId === endpointId);
}

function waitForOutcome(
  pipeline: Pipeline,
  endpointId: string,
  predicate: (outcome: DeliveryOutcomeRecord) => boolean,
  what: string,
): Promise<DeliveryOutcomeRecord> {
  return pipeline.outcomes
    .waitFor((list) => list.some((outcome) => outcome.endpointId === endpointId && predicate(outcome)), what)
    .then((list) => list.find((outcome) => outcome.endpointId === endpointId && predicate(outcome))!);
}

function publishTo(pipeline: Pipeline, organizationUuid: string, type: EventType): Promise<string> {
  return pipeline.publish({ type, organizationUuid, data: sampleEvent(type).data });
}

function terminalEventsOf(pipeline: Pipeline, organizationUuid: string): EventEnvelope[] {
  return pipeline.domainEvents.records.filter((event) => event.type === TERMINAL && event.organizationUuid === organizationUuid);
}

/**
 * Everything the sender wrote to the domain topic for this organization before now has been read:
 * events are keyed by organization, so a marker published now lands after them in the same
 * partition, and the recorder reads a partition in order.
 */
async function domainTopicCaughtUp(pipeline: Pipeline, organizationUuid: string): Promise<void> {
  const marker = await publishTo(pipeline, organizationUuid, "export_file.generated");
  await pipeline.domainEvents.waitFor((list) => list.some((event) => event.id === marker), `marker ${marker} on the domain topic`);
}

/** An endpoint's own delivery topic, read from the beginning: where parked retries go. */
async function readDeliveryTopic(pipeline: Pipeline, endpointId: string) {
  const records: Array<{ headers: Record<string, string>; request: DeliveryRequestRecord }> = [];
  const consumer = pipeline.kafka.createConsumer({
    groupId: `${pipeline.prefix}test-delivery-reader.${randomUUID().slice(0, 8)}`,
    topics: [deliveryTopic(pipeline.naming, endpointId)],
    fromBeginning: true,
  });
  await consumer.run({
    eachMessage: async (message) => {
      if (message.value) records.push({ headers: message.headers, request: await pipeline.records.decode("delivery-request", message.value) });
    },
  });
  return {
    records,
    waitFor: (predicate: (list: typeof records) => boolean, what: string) => waitUntil(() => predicate(records) && records, { what }),
    close: () => consumer.disconnect(),
  };
}

/**
 * A loopback receiver that can hold a request's response until the test answers it, so a test can
 * act (pause the endpoint) while an attempt is provably in flight.
 */
async function startGatedReceiver(gate: (index: number) => boolean) {
  const requests: Array<ReceivedRequest & { answer(status: number, body?: string): void }> = [];
  const held = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const answer = (status: number, text = "") => {
        held.delete(res);
        res.writeHead(status, { "content-type": "text/plain" }).end(text);
      };
      const index = requests.length;
      requests.push({ headers: req.headers, body, json: JSON.parse(body) as ReceivedRequest["json"], receivedAt: Date.now(), answer });
      if (gate(index)) held.add(res);
      else answer(200, "ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    requests,
    waitForRequests: (count: number) => waitUntil(() => requests.length >= count && requests, { what: `${count} requests (got ${requests.length})` }),
    close: async () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("retries (real broker, registry, loopback receivers, compressed schedule)", () => {
  let pipeline: Pipeline;
  const receivers: Array<{ close(): Promise<void> }> = [];

  async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
    const started = await startReceiver(...args);
    receivers.push(started);
    return started;
  }

  beforeAll(async () => {
    pipeline = await startPipeline();
    await pipeline.startRouter();
    await pipeline.startSender();
  });

  afterAll(async () => {
    // Receivers first: an attempt still open against one would hold up the sender's stop.
    await Promise.all(receivers.map((started) => started.close()));
    await pipeline?.close();
  });

  test("a 500 then a 200: delivered on attempt 2, the same event and the same bytes both times", async () => {
    const organizationUuid = randomUUID();
    const flaky = await receiver((_request, index) => (index === 0 ? { status: 500, body: "boom" } : { status: 200, body: "ok" }));
    const { config } = await pipeline.addEndpoint({ organizationUuid, url: flaky.url, eventTypes: ["kyc.*"] });
    const eventId = await publishTo(pipeline, organizationUuid, "kyc.vies_check_failed");

    await waitForOutcome(pipeline, config.endpointId, (outcome) => outcome.result === "SUCCEEDED", "a SUCCEEDED outcome");
    const outcomes = outcomesOf(pipeline, config.endpointId);
    expect(outcomes).toHaveLength(2);
    const [failed, succeeded] = outcomes;
    expect(failed).toMatchObject({ eventId, attempt: 1, result: "FAILED_RETRYING", statusCode: 500, errorClass: "http_status", responseBody: "boom" });
    expect(failed!.nextAttemptAt).toEqual(expect.any(Number));
    expect(failed!.nextAttemptAt!).toBeGreaterThan(failed!.attemptedAt);
    expect(succeeded).toMatchObject({ eventId, attempt: 2, result: "SUCCEEDED", statusCode: 200, errorClass: null, nextAttemptAt: null });
    expect(succeeded!.deliveryId).toBe(failed!.deliveryId);
    // The retry was not made before it was due.
    expect(succeeded!.attemptedAt).toBeGreaterThanOrEqual(failed!.nextAttemptAt!);

    const [first, second] = flaky.requests;
    expect(flaky.requests).toHaveLength(2);
    expect([attemptOf(first!), attemptOf(second!)]).toEqual([1, 2]);
    for (const request of [first!, second!]) {
      expect(request.json.id).toBe(eventId);
      expect(request.headers["x-novatrade-event-id"]).toBe(eventId);
      expect(request.headers["webhook-id"]).toBe(eventId);
      expect(request.headers["x-novatrade-delivery-id"]).toBe(failed!.deliveryId);
    }
    expect(second!.body).toBe(first!.body);
  });

  test("a redirect is a failed attempt: its Location is never requested", async () => {
    const organizationUuid = randomUUID();
    const elsewhere = await receiver();
    const redirecting = await receiver((_request, index) =>
      index === 0 ? { status: 302, headers: { location: elsewhere.url } } : { status: 200, body: "ok" },
    );
    const { config } = await pipeline.addEndpoint({ organizationUuid, url: redirecting.url, eventTypes: ["kyc.*"] });
    const eventId = await publishTo(pipeline, organizationUuid, "kyc.vies_check_failed");

    // Attempt 2 comes after attempt 1 is over: a followed redirect would have happened by then.
    await waitForOutcome(pipeline, config.endpointId, (outcome) => outcome.result === "SUCCEEDED", "a SUCCEEDED outcome");
    const [redirected, succeeded] = outcomesOf(pipeline, config.endpointId);
    expect(redirected).toMatchObject({ eventId, attempt: 1, result: "FAILED_RETRYING", errorClass: "http_status", statusCode: 302 });
    expect(succeeded).toMatchObject({ eventId, attempt: 2, result: "SUCCEEDED" });
    expect(redirecting.requests.map(attemptOf)).toEqual([1, 2]);
    expect(elsewhere.requests).toHaveLength(0);
  });

  test("ten failures: ten attempts, then one terminal meta event, delivered to a webhook.* subscriber", async () => {
    const organizationUuid = randomUUID();
    const failing = await receiver(() => ({ status: 500, body: "down" }));
    const watcher = await receiver();
    const { config } = await pipeline.addEndpoint({ organizationUuid, url: failing.url, eventTypes: ["kyc.*"] });
    const { config: watching } = await pipeline.addEndpoint({ organizationUuid, url: watcher.url, eventTypes: ["webhook.*"] });
    const eventId = await publishTo(pipeline, organizationUuid, "kyc.vies_check_failed");

    const terminal = await waitForOutcome(pipeline, config.endpointId, (outcome) => outcome.result === "FAILED_TERMINAL", "a FAILED_TERMINAL outcome");
    expect(terminal).toMatchObject({ eventId, attempt: 10, statusCode: 500, errorClass: "http_status", nextAttemptAt: null });

    // The watcher gets the meta event like any other event.
    const [notice] = await watcher.waitForRequests(1);
    expect(notice!.json).toMatchObject({
      type: TERMINAL,
      source: "SYSTEM",
      organizationUuid,
      data: { deliveryId: terminal.deliveryId, endpointId: config.endpointId, eventId, eventType: "kyc.vies_check_failed", attempts: 10, lastStatusCode: 500 },
    });
    await waitForOutcome(pipeline, watching.endpointId, (outcome) => outcome.result === "SUCCEEDED", "the watcher's SUCCEEDED outcome");

    // Exactly one meta event on the domain topic, everything the sender wrote there read.
    await domainTopicCaughtUp(pipeline, organizationUuid);
    const metaEvents = terminalEventsOf(pipeline, organizationUuid);
    expect(metaEvents).toHaveLength(1);
    expect(metaEvents[0]).toMatchObject({
      id: notice!.json.id,
      source: "SYSTEM",
      organizationUuid,
      data: { deliveryId: terminal.deliveryId, eventId, attempts: 10 },
    });

    // Ten attempts exactly: numbered 1..10, the same event and bytes each time.
    expect(failing.requests.map(attemptOf)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(new Set(failing.requests.map((request) => request.body)).size).toBe(1);
    expect(failing.eventIds()).toEqual(new Set([eventId]));
    const outcomes = outcomesOf(pipeline, config.endpointId);
    expect(outcomes.map((outcome) => outcome.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(outcomes.slice(0, 9).every((outcome) => outcome.result === "FAILED_RETRYING" && outcome.nextAttemptAt !== null)).toBe(true);
    expect(outcomes[9]!.result).toBe("FAILED_TERMINAL");
  });

  test("a meta event that fails terminally emits no further meta event (no loops)", async () => {
    const organizationUuid = randomUUID();
    const failing = await receiver(() => ({ status: 500 }));
    // The watcher fails everything but a sentinel type, which tells the test its lane has moved on.
    const watcher = await receiver((request) => (request.json.type === "prospect.submitted" ? { status: 200 } : { status: 503 }));
    const { config } = await pipeline.addEndpoint({ organizationUuid, url: failing.url, eventTypes: ["kyc.*"] });
    const { config: watching } = await pipeline.addEndpoint({
      organizationUuid,
      url: watcher.url,
      eventTypes: ["webhook.*", "prospect.submitted"],
      maxInFlight: 1,
    });
    const eventId = await publishTo(pipeline, organizationUuid, "kyc.vies_check_failed");

    const metaTerminal = await waitForOutcome(
      pipeline,
      watching.endpointId,
      (outcome) => outcome.eventType === TERMINAL && outcome.result === "FAILED_TERMINAL",
      "the meta event's own FAILED_TERMINAL outcome",
    );
    expect(metaTerminal.attempt).toBe(10);

    // One attempt at a time on the watcher's lane: the sentinel is attempted only after the last
    // attempt of the meta event, and everything it wrote (a meta event of its own, if any), is done.
    const sentinelId = await publishTo(pipeline, organizationUuid, "prospect.submitted");
    await waitUntil(() => watcher.eventIds().has(sentinelId), { what: "the sentinel at the watcher" });
    await domainTopicCaughtUp(pipeline, organizationUuid);

    const metaEvents = terminalEventsOf(pipeline, organizationUuid);
    expect(metaEvents).toHaveLength(1);
    expect(metaEvents[0]!.data).toMatchObject({ endpointId: config.endpointId, eventId, attempts: 10 });
    const metaAttempts = watcher.requests.filter((request) => request.json.type === TERMINAL);
    expect(metaAttempts.map(attemptOf)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(new Set(metaAttempts.map((request) => request.json.id))).toEqual(new Set([metaEvents[0]!.id]));
  });

  test("a paused endpoint is not attempted; resumed, it gets everything on attempt 1", async () => {
    const organizationUuid = randomUUID();
    const paused = await receiver();
    const sentinel = await receiver();
    const { config } = await pipeline.addEndpoint({ organizationUuid, url: paused.url, eventTypes: ["kyc.*"] });
    const { config: sentinelConfig } = await pipeline.addEndpoint({ organizationUuid, url: sentinel.url, eventTypes: ["kyc.*"] });
    const pausedConfig = await pipeline.pauseEndpoint(config);
    const topic = await readDeliveryTopic(pipeline, config.endpointId);
    try {
      const eventIds: string[] = [];
      for (let index = 0; index < 5; index++) eventIds.push(await publishTo(pipeline, organizationUuid, "kyc.vies_check_failed"));

      // Routed to both endpoints; the sentinel endpoint, read by the same sender, got all of them.
      await topic.waitFor((records) => records.length >= 5, "5 deliveries on the paused endpoint's topic");
      await sentinel.waitForRequests(5);
      await pipeline.outcomes.waitFor(
        (list) => list.filter((outcome) => outcome.endpointId === sentinelConfig.endpointId && outcome.result === "SUCCEEDED").length >= 5,
        "the sentinel endpoint's 5 outcomes",
      );
      expect(paused.requests).toHaveLength(0);
      expect(outcomesOf(pipeline, config.endpointId)).toHaveLength(0);

      await pipeline.resumeEndpoint(pausedConfig);
      await paused.waitForRequests(5);
      await pipeline.outcomes.waitFor(
        (list) => list.filter((outcome) => outcome.endpointId === config.endpointId).length >= 5,
        "the resumed endpoint's 5 outcomes",
      );
      expect(paused.eventIds()).toEqual(new Set(eventIds));
      expect(paused.requests.map(attemptOf)).toEqual([1, 1, 1, 1, 1]);
      expect(outcomesOf(pipeline, config.endpointId).map((outcome) => [outcome.result, outcome.attempt])).toEqual(
        Array.from({ length: 5 }, () => ["SUCCEEDED", 1]),
      );
    } finally {
      await topic.close();
    }
  });

  test("a retry that comes due while its endpoint is paused is parked, then continues at the next attempt", async () => {
    const organizationUuid = randomUUID();
    // Attempt 1 is held open until the endpoint is paused, then answered 500; the rest succeed.
    const flaky = await startGatedReceiver((index) => index === 0);
    receivers.push(flaky);
    const { config } = await pipeline.addEndpoint({ organizationUuid, url: flaky.url, eventTypes: ["kyc.*"] });
    const topic = await readDeliveryTopic(pipeline, config.endpointId);
    try {
      const eventId = await publishTo(pipeline, organizationUuid, "kyc.vies_check_failed");
      const [first] = await flaky.waitForRequests(1);
      const pausedConfig = await pipeline.pauseEndpoint(config);
      first!.answer(500, "down");

      const failed = await waitForOutcome(pipeline, config.endpointId, (outcome) => outcome.result === "FAILED_RETRYING", "attempt 1's outcome");
      expect(failed).toMatchObject({ eventId, attempt: 1, statusCode: 500 });

      // The due retry went back to the endpoint's own topic, attempt number unchanged.
      const records = await topic.waitFor((list) => list.some((record) => record.headers[PARKED_HEADER] === "1"), "a parked retry");
      const parked = records.find((record) => record.headers[PARKED_HEADER] === "1")!;
      expect(parked.request).toMatchObject({ eventId, deliveryId: failed.deliveryId, attempt: 2 });
      expect(flaky.requests).toHaveLength(1);
      expect(outcomesOf(pipeline, config.endpointId)).toHaveLength(1);

      await pipeline.resumeEndpoint(pausedConfig);
      await waitForOutcome(pipeline, config.endpointId, (outcome) => outcome.result === "SUCCEEDED", "the SUCCEEDED outcome after resume");
      expect(flaky.requests.map(attemptOf)).toEqual([1, 2]);
      expect(flaky.requests[1]!.body).toBe(first!.body);
      expect(outcomesOf(pipeline, config.endpointId).map((outcome) => [outcome.result, outcome.attempt])).toEqual([
        ["FAILED_RETRYING", 1],
        ["SUCCEEDED", 2],
      ]);
    } finally {
      await topic.close();
    }
  });
});

describe("timeouts (a pipeline with a 500 ms attempt timeout)", () => {
  let pipeline: Pipeline;
  let hanging: Receiver;

  beforeAll(async () => {
    pipeline = await startPipeline({ httpTimeoutMs: 500 });
    await pipeline.startRouter();
    await pipeline.startSender();
    // Never answers attempt 1; answers the retry.
    hanging = await startReceiver((_request, index) => (index === 0 ? "hang" : { status: 200, body: "ok" }));
  });

  afterAll(async () => {
    await hanging?.close();
    await pipeline?.close();
  });

  test("an attempt that gets no answer in time is a failed attempt of class timeout", async () => {
    const organizationUuid = randomUUID();
    const { config } = await pipeline.addEndpoint({ organizationUuid, url: hanging.url, eventTypes: ["kyc.*"] });
    const eventId = await publishTo(pipeline, organizationUuid, "kyc.vies_check_failed");

    await waitForOutcome(pipeline, config.endpointId, (outcome) => outcome.result === "SUCCEEDED", "a SUCCEEDED outcome");
    const [timedOut, succeeded] = outcomesOf(pipeline, config.endpointId);
    expect(timedOut).toMatchObject({ eventId, attempt: 1, result: "FAILED_RETRYING", errorClass: "timeout", statusCode: null, responseBody: null });
    expect(timedOut!.nextAttemptAt).toEqual(expect.any(Number));
    expect(succeeded).toMatchObject({ eventId, attempt: 2, result: "SUCCEEDED", statusCode: 200 });
    expect(hanging.requests.map(attemptOf)).toEqual([1, 2]);
  });
});
