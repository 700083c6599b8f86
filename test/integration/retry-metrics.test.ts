import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { sampleEvent } from "@novatrade/event-codec";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { waitUntil } from "../support/wait-until.js";

/*
 * The sender's retry gauges through the real router, sender and broker: a failing endpoint on an
 * hour-long schedule leaves its retries waiting in the `1h` tier, and the sender says how many
 * (novatrade_sender_retry_backlog, from the retry group's lag) and when the oldest is due
 * (novatrade_sender_retry_oldest_due_timestamp_seconds).
 */

let pipeline: Pipeline;
let failing: Receiver;

beforeAll(async () => {
  pipeline = await startPipeline({ retrySchedule: "1h,1h,1h,1h,1h,1h,1h,1h,1h", env: { KAFKA_LAG_INTERVAL_MS: "1000" } });
  failing = await startReceiver(() => ({ status: 503, body: "down" }));
  await pipeline.startRouter();
  await pipeline.startSender();
});

afterAll(async () => {
  await pipeline?.close();
  await failing?.close();
});

function gaugeValues(text: string, name: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const [, tier, value] of text.matchAll(new RegExp(`^${name}\\{[^}]*tier="([^"]+)"[^}]*\\} (\\S+)$`, "gm"))) values.set(tier!, Number(value));
  return values;
}

describe("retry backlog and oldest due time per tier", () => {
  test("three failed first attempts wait in the 1h tier: backlog 3, oldest due about an hour after the first failure", async () => {
    const { config: endpoint } = await pipeline.addEndpoint({ url: failing.url, eventTypes: ["kyc.*"] });
    const firstFailureAfter = Date.now();
    for (let i = 0; i < 3; i++) await pipeline.publish({ type: "kyc.vies_check_failed", data: sampleEvent("kyc.vies_check_failed").data });
    await pipeline.outcomes.waitFor(
      (list) => list.filter((outcome) => outcome.endpointId === endpoint.endpointId && outcome.result === "FAILED_RETRYING").length === 3,
      "three FAILED_RETRYING outcomes",
    );
    const registry = pipeline.sender!.registry;

    const backlog = await waitUntil(async () => {
      const values = gaugeValues(await registry.metrics(), "novatrade_sender_retry_backlog");
      return values.get("1h") === 3 ? values : false;
    }, { what: "retry backlog 3 in tier 1h" });
    expect(backlog.get("1h")).toBe(3);

    const oldest = await waitUntil(async () => gaugeValues(await registry.metrics(), "novatrade_sender_retry_oldest_due_timestamp_seconds").get("1h"), {
      what: "the oldest due time of tier 1h",
    });
    // Due one hour after its failed attempt, give or take the jitter (at most 0.5 %, 18 s).
    expect(oldest * 1000).toBeGreaterThan(firstFailureAfter + 3_600_000 - 18_000);
    expect(oldest * 1000).toBeLessThan(Date.now() + 3_600_000 + 18_000);
    // Nothing is overdue: the alert's expression, time() minus the gauge, is negative.
    expect(Date.now() / 1000 - oldest).toBeLessThan(0);
  });
});
