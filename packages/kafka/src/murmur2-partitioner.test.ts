import { createRequire } from "node:module";
import { randomBytes, randomUUID } from "node:crypto";
import kafkajs from "kafkajs";
import { describe, expect, test } from "vitest";
import { murmur2, Murmur2Partitioner } from "./murmur2-partitioner.js";

const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require("kafkajs/src/producer/partitioners/default/murmur2.js") as (key: Buffer | string) => number;

describe("murmur2", () => {
  test("equals kafkajs' (Java-compatible) murmur2 for keys of every length and byte", () => {
    const keys: Array<Buffer | string> = ["", "a", "ab", "abc", "abcd", "évènement ✓", randomUUID(), "evt_0123456789abcdef01234567"];
    for (let length = 0; length < 70; length++) for (let i = 0; i < 20; i++) keys.push(randomBytes(length));
    for (const key of keys) expect(murmur2(key), String(key)).toBe(kafkajsMurmur2(key));
  });

  test("Kafka's reference values (the Java client's test vectors)", () => {
    // org.apache.kafka.common.utils.UtilsTest#testMurmur2
    expect(murmur2(Buffer.from("21"))).toBe(-973932308);
    expect(murmur2(Buffer.from("foobar"))).toBe(-790332482);
    expect(murmur2(Buffer.from("a-little-bit-long-string"))).toBe(-985981536);
    expect(murmur2(Buffer.from("a-little-bit-longer-string"))).toBe(-1486304829);
    expect(murmur2(Buffer.from("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"))).toBe(-58897971);
  });
});

describe("Murmur2Partitioner", () => {
  test("chooses the partitions kafkajs' DefaultPartitioner chooses", () => {
    const ours = Murmur2Partitioner();
    const theirs = kafkajs.Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 12 }, (_, partitionId) => ({ partitionId, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));
    for (let i = 0; i < 500; i++) {
      const message = { key: i % 2 === 0 ? randomUUID() : randomBytes(i % 40), value: null };
      const args = { topic: "t", partitionMetadata, message };
      expect(ours(args)).toBe(theirs(args));
    }
    expect(ours({ topic: "t", partitionMetadata, message: { key: "k", value: null, partition: 7 } })).toBe(7);
  });
});
