import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { deliveryTopic, retryTopicForDelay } from "@novatrade/domain";
import { sampleEvent, type DeliveryRequestRecord } from "@novatrade/event-codec";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { waitUntil } from "../support/wait-until.js";

const TIER_MS = 20 * 60_000;

/**
 * Retries in one tier partition are in due order only to within the tier's jitter spread (twice
 * 0.5 % of the delay: 12 s for a 20 min tier). A retry due later must not make the retries behind
 * it in the partition wait for it: the sender reads ahead and times each retry on its own. Here
 * retry A (due in 11 s) is written before retry B (due in 1 s) in the same partition: B goes out
 * first, each not before it is due. Holding the partition at A, as the sender did before, sends
 * A and then B, 10 s late.
 */
describe("retries read ahead of their due time (real broker, registry, loopback receiver)", () => {
  let pipeline: Pipeline;
  let receiver: Receiver;

  beforeAll(async () => {
    pipeline = await startPipeline({ retrySchedule: "20m" });
    await pipeline.startRouter();
    await pipeline.startSender();
    receiver = await startReceiver(() => ({ status: 200, body: "ok" }));
  });

  afterAll(async () => {
    await pipeline?.close();
    await receiver?.close();
  });

  test("a retry due sooner, written behind one due later in its partition, goes out first, each when due", async () => {
    const organizationUuid = randomUUID();
    const { config } = await pipeline.addEndpoint({ organizationUuid, url: receiver.url, eventTypes: ["kyc.*"] });
    await pipeline.publish({ organizationUuid, type: "kyc.vies_check_failed", data: sampleEvent("kyc.vies_check_failed").data });
    await receiver.waitForRequests(1, 90_000);

    // The delivery request the router wrote: the template of the two retries.
    let template: DeliveryRequestRecord | undefined;
    const reader = pipeline.kafka.createConsumer({
      groupId: `${pipeline.prefix}test-template-reader.${randomUUID().slice(0, 8)}`,
      topics: [deliveryTopic(pipeline.naming, config.endpointId)],
      fromBeginning: true,
    });
    await reader.run({
      eachMessage: async (message) => {
        if (message.value && !template) template = await pipeline.records.decode("delivery-request", message.value);
      },
    });
    await waitUntil(() => template !== undefined, { what: "the delivery request on the endpoint's topic" });
    await reader.disconnect();

    const now = Date.now();
    const later: DeliveryRequestRecord = { ...template!, deliveryId: randomUUID(), attempt: 2, notBefore: now + 11_000 };
    const sooner: DeliveryRequestRecord = { ...template!, deliveryId: randomUUID(), attempt: 2, notBefore: now + 1_000 };
    await pipeline.producer.send(retryTopicForDelay(pipeline.naming, TIER_MS), [
      { key: later.eventId, partition: 0, value: await pipeline.records.encode("delivery-request", later) },
      { key: sooner.eventId, partition: 0, value: await pipeline.records.encode("delivery-request", sooner) },
    ]);

    await receiver.waitForRequests(3, 120_000);
    const retries = receiver.requests.slice(1).map((request) => ({ deliveryId: request.headers["x-novatrade-delivery-id"], attempt: request.headers["x-novatrade-attempt"], receivedAt: request.receivedAt }));
    expect(retries.map(({ deliveryId, attempt }) => [deliveryId, attempt])).toEqual([
      [sooner.deliveryId, "2"],
      [later.deliveryId, "2"],
    ]);
    expect(retries[0]!.receivedAt).toBeGreaterThanOrEqual(sooner.notBefore);
    expect(retries[1]!.receivedAt).toBeGreaterThanOrEqual(later.notBefore);
    // Both were taken and finished: the sender's retry group commits past them.
    await pipeline.outcomes.waitFor(
      (list) => [sooner, later].every((retry) => list.some((outcome) => outcome.deliveryId === retry.deliveryId && outcome.result === "SUCCEEDED")),
      "both retries' SUCCEEDED outcomes",
    );
  });
});
