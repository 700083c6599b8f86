import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { sampleEvent } from "@novatrade/event-codec";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { waitUntil } from "../support/wait-until.js";

/**
 * A backlog waiting when the dispatcher starts: the router fetches it in large batches (its
 * writes must be split under the broker's message size limit), and the sender's lane for the
 * endpoint fills up, so its delivery topic is paused and resumed many times. Nothing may be
 * lost or stuck on the way.
 */
describe("a large backlog (real broker, registry, loopback receiver)", () => {
  let pipeline: Pipeline;
  let receiver: Receiver;

  beforeAll(async () => {
    // A small backlog limit makes the sender pause and resume the topic over and over.
    pipeline = await startPipeline({ env: { SENDER_ENDPOINT_BACKLOG_LIMIT: "50" } });
    receiver = await startReceiver();
  });

  afterAll(async () => {
    await pipeline?.close();
    await receiver?.close();
  });

  test("4000 events published before the services start are all delivered", async () => {
    await pipeline.addEndpoint({ url: receiver.url, eventTypes: ["compliance.*"], maxInFlight: 10 });
    const data = sampleEvent("compliance.decision_made").data;
    const published = new Set(await pipeline.publishMany(4_000, { type: "compliance.decision_made", data }));
    await pipeline.startRouter();
    await pipeline.startSender();
    await waitUntil(() => receiver.eventIds().size >= published.size, {
      timeoutMs: 240_000,
      what: `${published.size} events delivered (have ${receiver.eventIds().size})`,
    });
    expect([...published].every((id) => receiver.eventIds().has(id))).toBe(true);
    // In-process, nothing crashed: each event was attempted exactly once.
    expect(receiver.requests.length).toBe(published.size);
  });
});
