import { randomUUID } from "node:crypto";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { EventType } from "@novatrade/domain";
import { sampleEvent, type DeliveryOutcomeRecord } from "@novatrade/event-codec";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { startReceiver, type ReceivedRequest, type Receiver } from "../support/receiver.js";
import { waitUntil } from "../support/wait-until.js";

/*
 * SPEC §4 isolation and §7 address policy, through the real router and sender. Each test uses an
 * organization of its own so that its endpoints see only its events. No timing assertions: what
 * is asserted is what had (and had not) happened when something else had.
 */

function publishTo(pipeline: Pipeline, organizationUuid: string, type: EventType): Promise<string> {
  return pipeline.publish({ type, organizationUuid, data: sampleEvent(type).data });
}

function outcomesOf(pipeline: Pipeline, endpointId: string): DeliveryOutcomeRecord[] {
  return pipeline.outcomes.records.filter((outcome) => outcome.endpointId === endpointId);
}

/**
 * A loopback receiver that answers nothing until the test says so, and counts how many requests
 * it has open at once. Its count can only under-state the sender's (a request is counted from
 * its arrival to its answer), so a maximum above the limit is a real breach.
 */
async function startHoldingReceiver() {
  const requests: ReceivedRequest[] = [];
  const open: ServerResponse[] = [];
  let maxOpen = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      requests.push({ headers: req.headers, body, json: JSON.parse(body) as ReceivedRequest["json"], receivedAt: Date.now() });
      open.push(res);
      maxOpen = Math.max(maxOpen, open.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    requests,
    open: () => open.length,
    maxOpen: () => maxOpen,
    /** Answers the oldest open request. */
    answerOldest(status = 200): void {
      open.shift()!.writeHead(status, { "content-type": "text/plain" }).end("ok");
    },
    close: async () => {
      for (const res of open.splice(0)) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("isolation (real broker, registry, loopback receivers, 30 s attempt timeout)", () => {
  let pipeline: Pipeline;
  const receivers: Array<{ close(): Promise<void> }> = [];

  beforeAll(async () => {
    pipeline = await startPipeline({
      httpTimeoutMs: 30_000,
      // A small per-endpoint backlog, so a stuck endpoint's topic is also paused (back-pressure)
      // while the others are read on.
      env: { SENDER_ENDPOINT_BACKLOG_LIMIT: "5" },
    });
    await pipeline.startRouter();
    await pipeline.startSender();
  });

  afterAll(async () => {
    // Receivers first: their open attempts fail at once instead of holding up the sender's stop.
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await pipeline?.close();
  });

  test("an endpoint that never answers does not delay a healthy one", async () => {
    const organizationUuid = randomUUID();
    const hanging: Receiver = await startReceiver(() => "hang");
    const healthy: Receiver = await startReceiver();
    receivers.push(hanging, healthy);
    const maxInFlight = 3;
    const { config: stuck } = await pipeline.addEndpoint({ organizationUuid, url: hanging.url, eventTypes: ["kyc.*"], maxInFlight });
    const { config: fine } = await pipeline.addEndpoint({ organizationUuid, url: healthy.url, eventTypes: ["prospect.submitted"] });

    // First fill the stuck endpoint's lane with attempts that will not end within the test.
    for (let index = 0; index < maxInFlight; index++) await publishTo(pipeline, organizationUuid, "kyc.vies_check_failed");
    await hanging.waitForRequests(maxInFlight);

    // Then 30 more for each, interleaved.
    const healthyIds: string[] = [];
    for (let index = 0; index < 30; index++) {
      await publishTo(pipeline, organizationUuid, "kyc.vies_check_failed");
      healthyIds.push(await publishTo(pipeline, organizationUuid, "prospect.submitted"));
    }
    await waitUntil(() => healthyIds.every((id) => healthy.eventIds().has(id)), { what: "all 30 healthy deliveries" });
    await pipeline.outcomes.waitFor(
      (list) => list.filter((outcome) => outcome.endpointId === fine.endpointId && outcome.result === "SUCCEEDED").length >= 30,
      "the healthy endpoint's 30 outcomes",
    );

    // All of that while the stuck endpoint's first attempts were still open and nothing else of it ran.
    expect(healthy.requests).toHaveLength(30);
    expect(hanging.requests).toHaveLength(maxInFlight);
    expect(outcomesOf(pipeline, stuck.endpointId)).toHaveLength(0);
  });

  test("an endpoint never has more than its maxInFlight requests open at once", async () => {
    const organizationUuid = randomUUID();
    const holding = await startHoldingReceiver();
    receivers.push(holding);
    const { config } = await pipeline.addEndpoint({ organizationUuid, url: holding.url, eventTypes: ["kyc.*"], maxInFlight: 2 });
    const total = 8;
    const eventIds: string[] = [];
    for (let index = 0; index < total; index++) eventIds.push(await publishTo(pipeline, organizationUuid, "kyc.vies_check_failed"));

    // Answer one at a time, each time once the endpoint has as many open as it may (or as remain).
    for (let answered = 0; answered < total; answered++) {
      const expected = Math.min(2, total - answered);
      await waitUntil(() => holding.open() >= expected, { what: `${expected} open requests (answered ${answered})` });
      expect(holding.open()).toBe(expected);
      holding.answerOldest();
    }
    await pipeline.outcomes.waitFor(
      (list) => list.filter((outcome) => outcome.endpointId === config.endpointId && outcome.result === "SUCCEEDED").length >= total,
      `${total} SUCCEEDED outcomes`,
    );

    expect(holding.maxOpen()).toBe(2);
    expect(holding.requests).toHaveLength(total);
    expect(new Set(holding.requests.map((request) => request.json.id))).toEqual(new Set(eventIds));
  });
});

describe("address policy (a sender that does not allow loopback)", () => {
  let pipeline: Pipeline;
  let receiver: Receiver;

  beforeAll(async () => {
    // Registration in the harness still allows loopback: only the sender's connect-time guard is tested.
    pipeline = await startPipeline({ env: { SENDER_ALLOW_LOOPBACK: "false" } });
    await pipeline.startRouter();
    await pipeline.startSender();
    receiver = await startReceiver();
  });

  afterAll(async () => {
    await receiver?.close();
    await pipeline?.close();
  });

  test("a loopback endpoint, by address or by name, is never connected to: blocked_address, all ten attempts", async () => {
    const organizationUuid = randomUUID();
    const { config: byAddress } = await pipeline.addEndpoint({ organizationUuid, url: receiver.url, eventTypes: ["kyc.*"] });
    // A name goes through DNS: the guard in the connection's lookup has to refuse it.
    const { config: byName } = await pipeline.addEndpoint({
      organizationUuid,
      url: receiver.url.replace("127.0.0.1", "localhost"),
      eventTypes: ["kyc.*"],
    });
    const eventId = await publishTo(pipeline, organizationUuid, "kyc.vies_check_failed");

    for (const endpoint of [byAddress, byName]) {
      await pipeline.outcomes.waitFor(
        (list) => list.some((outcome) => outcome.endpointId === endpoint.endpointId && outcome.result === "FAILED_TERMINAL"),
        `${endpoint.url}: a FAILED_TERMINAL outcome`,
      );
      const outcomes = outcomesOf(pipeline, endpoint.endpointId);
      expect(outcomes.map((outcome) => outcome.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      for (const outcome of outcomes) {
        expect(outcome).toMatchObject({ eventId, errorClass: "blocked_address", statusCode: null, responseBody: null });
      }
    }
    expect(receiver.requests).toHaveLength(0);
  });
});
