import { describe, expect, test } from "vitest";
import { deliveryGroupIdOf, deliveryShardCountsIn, deliveryShardGroupId, deliveryShardOf, fnv1a32 } from "./delivery-shards.js";

describe("delivery shards", () => {
  test("FNV-1a matches its published test vectors (the shard of a topic must never change between versions)", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
  });

  test("a topic's shard depends on its name and the shard count only", () => {
    const topic = "novatrade.webhooks.delivery.ep_0123456789abcdef";
    expect(deliveryShardOf(topic, 16)).toBe(fnv1a32(topic) % 16);
    expect(deliveryShardOf(topic, 1)).toBe(0);
  });

  test("endpoint topics spread over every shard, none holding much more than its share", () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 10_000; i++) counts[deliveryShardOf(`novatrade.webhooks.delivery.ep_${i.toString(16).padStart(32, "0")}`, 16)]!++;
    expect(Math.min(...counts)).toBeGreaterThan(500);
    expect(Math.max(...counts)).toBeLessThan(760);
  });

  test("one shard keeps the base group id; more put the shard and the count in it", () => {
    expect(deliveryShardGroupId("p.sender", 0, 1)).toBe("p.sender");
    expect(deliveryShardGroupId("p.sender", 3, 16)).toBe("p.sender.delivery.3-of-16");
    expect(deliveryGroupIdOf("p.sender", "p.delivery.ep_1", 16)).toBe(`p.sender.delivery.${deliveryShardOf("p.delivery.ep_1", 16)}-of-16`);
  });

  test("a shard count or shard out of range is refused", () => {
    expect(() => deliveryShardOf("t", 0)).toThrow(RangeError);
    expect(() => deliveryShardOf("t", 1.5)).toThrow(RangeError);
    expect(() => deliveryShardOf("t", 257)).toThrow(RangeError);
    expect(() => deliveryShardGroupId("g", 16, 16)).toThrow(RangeError);
  });

  test("finds the shard counts earlier senders used among the cluster's groups", () => {
    const groups = ["p.sender", "p.sender.retry", "p.sender.delivery.0-of-8", "p.sender.delivery.7-of-8", "p.sender.delivery.2-of-32", "p.sender.delivery.x-of-4", "p.senderX.delivery.0-of-4", "p.router"];
    expect(deliveryShardCountsIn("p.sender", groups)).toEqual([1, 8, 32]);
    expect(deliveryShardCountsIn("p.sender", ["p.router"])).toEqual([]);
  });
});
