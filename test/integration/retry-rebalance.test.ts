import { randomUUID } from "node:crypto";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { sampleEvent } from "@novatrade/event-codec";
import type { StopFunction } from "@novatrade/service-runtime";
import { loadConfig as loadSenderConfig } from "../../services/sender/src/config.js";
import { startSender } from "../../services/sender/src/sender-app.js";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { startReceiver, type Receiver } from "../support/receiver.js";

/**
 * A retry held in its tier partition (not due yet) while the senders' group rebalances: a second
 * sender joins, then the first leaves. Whoever owns the partition when the retry comes due
 * attempts it, once, not before it is due, as attempt 2.
 */
describe("a held retry across sender rebalances (real broker, registry, loopback receiver)", () => {
  let pipeline: Pipeline;
  let receiver: Receiver;
  const secondSenderStops: StopFunction[] = [];

  beforeAll(async () => {
    // The first retry waits 6 s: long enough to rebalance twice while it is held.
    pipeline = await startPipeline({ retrySchedule: "6s,150ms,150ms,150ms,150ms,150ms,150ms,150ms,150ms" });
    await pipeline.startRouter();
    await pipeline.startSender();
    receiver = await startReceiver((_request, index) => (index === 0 ? { status: 503, body: "busy" } : { status: 200, body: "ok" }));
  });

  afterAll(async () => {
    for (const stop of secondSenderStops.reverse()) await stop();
    await pipeline?.close();
    await receiver?.close();
  });

  test("the retry is attempted once, as attempt 2, when due, by whichever sender then owns it", async () => {
    const organizationUuid = randomUUID();
    const { config } = await pipeline.addEndpoint({ organizationUuid, url: receiver.url, eventTypes: ["kyc.*"] });
    const eventId = await pipeline.publish({ organizationUuid, type: "kyc.vies_check_failed", data: sampleEvent("kyc.vies_check_failed").data });
    await pipeline.outcomes.waitFor(
      (list) => list.some((outcome) => outcome.eventId === eventId && outcome.result === "FAILED_RETRYING"),
      "the first attempt's FAILED_RETRYING outcome",
    );
    const nextAttemptAt = pipeline.outcomes.records.find((outcome) => outcome.eventId === eventId)!.nextAttemptAt!;

    // A second sender joins the group (rebalance), then the first one leaves (another).
    await startSender(loadSenderConfig(pipeline.env), {
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
      registry: new Registry(),
      onStop: (stop) => secondSenderStops.push(stop),
    });
    await pipeline.stopSender();

    await receiver.waitForRequests(2, 90_000);
    await pipeline.outcomes.waitFor(
      (list) => list.some((outcome) => outcome.eventId === eventId && outcome.result === "SUCCEEDED"),
      "the retry's SUCCEEDED outcome",
    );
    const attempts = receiver.requests.map((request) => request.headers["x-novatrade-attempt"]);
    expect(attempts).toEqual(["1", "2"]);
    expect(receiver.requests[1]!.receivedAt).toBeGreaterThanOrEqual(nextAttemptAt);
    const outcomes = pipeline.outcomes.records.filter((outcome) => outcome.endpointId === config.endpointId);
    expect(outcomes.map((outcome) => [outcome.attempt, outcome.result])).toEqual([
      [1, "FAILED_RETRYING"],
      [2, "SUCCEEDED"],
    ]);
  });
});
