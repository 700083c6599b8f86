import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { EVENT_TYPES } from "@novatrade/domain";
import { runDemo } from "@novatrade/demo";
import { EndpointConfigPublisher } from "@novatrade/endpoint-config";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { waitUntil } from "../support/wait-until.js";

/**
 * `make demo`'s core program against the real broker and registry, with the router and sender
 * running: every one of the ten event types reaches the demo's receiver, verified under both
 * signature schemes, and nothing is refused.
 */
describe("make demo (runDemo against a running dispatcher)", () => {
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline();
    await pipeline.startRouter();
    await pipeline.startSender();
  });

  afterAll(async () => {
    await pipeline?.close();
  });

  test("all ten event types are delivered, signed and verified; the endpoint is removed afterwards", async () => {
    const lines: string[] = [];
    const result = await runDemo({
      publisher: new EndpointConfigPublisher({
        producer: pipeline.producer,
        admin: pipeline.kafka.admin,
        records: pipeline.records,
        naming: pipeline.naming,
        deliveryTopicPartitions: 1,
      }),
      events: pipeline.events,
      secretBox: pipeline.secretBox,
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
