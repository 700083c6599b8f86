import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { randomUUID } from "node:crypto";
import { deliveryShardGroupId, deliveryShardOf, deliveryTopic } from "@novatrade/domain";
import { registerEndpoint } from "@novatrade/endpoint-config";
import { sampleEvent } from "@novatrade/event-codec";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { waitUntil } from "../support/wait-until.js";

/**
 * Issue 7: the sender splits the endpoint delivery topics over shard consumer groups
 * (SENDER_DELIVERY_SHARDS), so a new endpoint rebalances its own shard's group only; and a
 * change of the shard count re-delivers nothing: the new groups start where the old ones had
 * committed.
 */
const SHARDS = 4;
const data = sampleEvent("compliance.decision_made").data;

describe("sender delivery shards", () => {
  let pipeline: Pipeline;
  let receiver: Receiver;

  beforeAll(async () => {
    pipeline = await startPipeline();
    receiver = await startReceiver();
    await pipeline.startRouter();
  }, 120_000);

  afterAll(async () => {
    await pipeline?.stopSender();
    await pipeline?.stopRouter();
    await pipeline?.close();
    await receiver?.close();
  }, 120_000);

  /** Registers an endpoint whose delivery topic is in `shard` (its id drawn until it is). */
  async function endpointInShard(shard: number) {
    const newEndpointId = () => {
      for (;;) {
        const endpointId = `ep_${randomUUID().replaceAll("-", "")}`;
        if (deliveryShardOf(deliveryTopic(pipeline.naming, endpointId), SHARDS) === shard) return endpointId;
      }
    };
    const { config } = registerEndpoint(
      { organizationUuid: randomUUID(), url: receiver.url, eventTypes: ["compliance.*"] },
      { secretBox: pipeline.secretBox, now: Date.now(), urlPolicy: { allowHttp: true, allowLoopback: true, allowPrivate: false }, newEndpointId },
    );
    return pipeline.updateEndpoint(config);
  }

  const publishTo = (organizationUuid: string, count: number) =>
    Promise.all(Array.from({ length: count }, () => pipeline.publish({ type: "compliance.decision_made", data, organizationUuid })));
  const delivered = (ids: string[]) => ids.every((id) => receiver.eventIds().has(id));

  test("a new shard count starts each topic where the unsharded group committed it: nothing is delivered twice", async () => {
    pipeline.env.SENDER_DELIVERY_SHARDS = "1";
    await pipeline.startSender();
    const endpoints = [await endpointInShard(0), await endpointInShard(1), await endpointInShard(2), await endpointInShard(3)];
    const before = (await Promise.all(endpoints.map((endpoint) => publishTo(endpoint.organizationUuid, 3)))).flat();
    await waitUntil(() => delivered(before), { what: "the deliveries of the unsharded sender" });
    await pipeline.stopSender(); // commits what it delivered

    pipeline.env.SENDER_DELIVERY_SHARDS = String(SHARDS);
    await pipeline.startSender();
    const after = (await Promise.all(endpoints.map((endpoint) => publishTo(endpoint.organizationUuid, 2)))).flat();
    await waitUntil(() => delivered(after), { what: "the deliveries of the sharded sender" });
    for (const id of [...before, ...after]) expect(receiver.requests.filter((request) => request.json.id === id)).toHaveLength(1);
  });

  test("a new endpoint rejoins only its own shard's group; the other shards' groups do not rebalance", async () => {
    const sender = pipeline.sender!;
    const groups = Array.from({ length: SHARDS }, (_, shard) => deliveryShardGroupId(`${pipeline.prefix}sender`, shard, SHARDS));
    // Every shard has topics (the first test made one endpoint per shard) and has joined.
    await waitUntil(() => sender.service.deliveryPartitions().assigned >= SHARDS, { what: "every shard assigned" });
    const joins: string[] = [];
    const stopListening = sender.service.onDeliveryGroupJoin((groupId) => joins.push(groupId));
    try {
      const newcomer = await endpointInShard(2);
      const ids = await publishTo(newcomer.organizationUuid, 1);
      await waitUntil(() => delivered(ids), { what: "the new endpoint's first delivery" });
      // Sentinel: the join of the new endpoint's shard was seen (so "no other join" means something).
      expect(joins).toContain(groups[2]);
      expect(joins.filter((groupId) => groupId !== groups[2])).toEqual([]);
    } finally {
      stopListening();
    }
  });
});
