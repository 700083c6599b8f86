import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { deliveryTopic } from "@novatrade/domain";
import { sampleEvent } from "@novatrade/event-codec";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { waitUntil } from "../support/wait-until.js";

/*
 * Issue 6 item 5: with the global cap of 500 in flight and 10 per endpoint, 50 endpoints that
 * hang (one tenant can create them) used to hold every slot for the whole attempt timeout. The
 * proof the issue asks for is a throughput comparison, the one timing assertion of this suite,
 * made robust: both runs in this process, several rounds each, compared by their medians, with
 * enough deliveries per round to average out scheduling noise.
 */

const HANGING_ENDPOINTS = 50;
const ROUNDS = 5;
const DELIVERIES_PER_ROUND = 600;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe("fair share of the global in-flight cap (real broker, registry, loopback receivers)", () => {
  let pipeline: Pipeline;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    // Attempts that hang stay open for the whole test.
    pipeline = await startPipeline({ httpTimeoutMs: 300_000, env: { SENDER_GLOBAL_MAX_IN_FLIGHT: "500" } });
    await pipeline.startRouter();
    await pipeline.startSender();
  });

  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await pipeline?.close();
  });

  test("50 hanging endpoints of organization A: B's deliveries/s stays at least 90 % of a run without A", async () => {
    const organizationB = randomUUID();
    const healthy = await startReceiver();
    receivers.push(healthy);
    let { config: endpointB } = await pipeline.addEndpoint({ organizationUuid: organizationB, url: healthy.url, eventTypes: ["prospect.submitted"], maxInFlight: 10 });
    const data = sampleEvent("prospect.submitted").data;

    /**
     * The sender's deliveries per second to B over one round. B's deliveries are routed while B
     * is paused, then B is resumed: the round measures the sender alone, from B's first request
     * to its last, not the router or the publishing.
     */
    async function roundRate(): Promise<number> {
      const before = healthy.requests.length;
      endpointB = await pipeline.pauseEndpoint(endpointB);
      await pipeline.publishMany(DELIVERIES_PER_ROUND, { type: "prospect.submitted", organizationUuid: organizationB, data });
      const topic = deliveryTopic(pipeline.naming, endpointB.endpointId);
      const routedBefore = routed;
      await waitUntil(async () => {
        const offsets = await pipeline.kafka.admin.fetchTopicOffsets(topic);
        routed = offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
        return routed >= routedBefore + DELIVERIES_PER_ROUND;
      }, { what: `B's ${DELIVERIES_PER_ROUND} deliveries routed` });
      endpointB = await pipeline.resumeEndpoint(endpointB);
      await healthy.waitForRequests(before + DELIVERIES_PER_ROUND, 120_000);
      const round = healthy.requests.slice(before, before + DELIVERIES_PER_ROUND);
      return (round.length - 1) / ((round.at(-1)!.receivedAt - round[0]!.receivedAt) / 1000);
    }
    let routed = 0;

    // Warm-up: B's topic is read and its connection open before anything is measured.
    await pipeline.publish({ type: "prospect.submitted", organizationUuid: organizationB, data });
    await healthy.waitForRequests(1);
    routed = 1;
    await roundRate();
    const alone: number[] = [];
    for (let round = 0; round < ROUNDS; round++) alone.push(await roundRate());

    // Organization A: 50 endpoints whose receivers never answer, with work for every slot they may take.
    const organizationA = randomUUID();
    for (let index = 0; index < HANGING_ENDPOINTS; index++) {
      const hanging = await startReceiver(() => "hang");
      receivers.push(hanging);
      await pipeline.addEndpoint({ organizationUuid: organizationA, url: hanging.url, eventTypes: ["kyc.*"], maxInFlight: 10 });
    }
    await pipeline.publishMany(12, { type: "kyc.vies_check_failed", organizationUuid: organizationA, data: sampleEvent("kyc.vies_check_failed").data });
    const hangingOpen = () => receivers.slice(1).reduce((sum, receiver) => sum + receiver.requests.length, 0);
    // A holds as many slots as it will get (its organization's share) before B is measured again.
    await waitUntil(() => hangingOpen() >= 250, { what: `A's hanging attempts to take their slots (have ${hangingOpen()})`, timeoutMs: 120_000 });

    const withA: number[] = [];
    for (let round = 0; round < ROUNDS; round++) withA.push(await roundRate());
    console.log(`B deliveries/s alone ${alone.map(Math.round).join(", ")}; with 50 hanging endpoints of A ${withA.map(Math.round).join(", ")}; A open ${hangingOpen()}`);
    expect(median(withA)).toBeGreaterThanOrEqual(0.9 * median(alone));
    // Ten rounds of 600 deliveries and 50 endpoints to register: more than the default two minutes on a loaded machine.
  }, 300_000);
});
