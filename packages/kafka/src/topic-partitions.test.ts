import { describe, expect, it } from "vitest";
import { PausedPartitions, type TopicPartitions } from "./topic-partitions.js";

type Step = ["pause" | "resume", TopicPartitions[]];

describe("PausedPartitions", () => {
  it.each<[string, Step[], Array<[number, boolean]>]>([
    ["one partition", [["pause", [{ topic: "t", partitions: [1] }]]], [[0, false], [1, true]]],
    ["a whole topic", [["pause", [{ topic: "t" }]]], [[0, true], [5, true]]],
    [
      "a whole topic, then one partition again (kafkajs would un-pause the others)",
      [["pause", [{ topic: "t" }]], ["pause", [{ topic: "t", partitions: [1] }]]],
      [[0, true], [1, true]],
    ],
    [
      "a whole topic but one resumed partition",
      [["pause", [{ topic: "t" }]], ["resume", [{ topic: "t", partitions: [2] }]]],
      [[0, true], [2, false]],
    ],
    [
      "a resumed partition paused again",
      [["pause", [{ topic: "t" }]], ["resume", [{ topic: "t", partitions: [2] }]], ["pause", [{ topic: "t", partitions: [2] }]]],
      [[2, true]],
    ],
    [
      "partitions, then the whole topic resumed",
      [["pause", [{ topic: "t", partitions: [0, 1] }]], ["resume", [{ topic: "t" }]]],
      [[0, false], [1, false]],
    ],
    ["resuming what was never paused", [["resume", [{ topic: "t", partitions: [0] }]]], [[0, false]]],
  ])("%s", (_name, steps, expectations) => {
    const paused = new PausedPartitions();
    for (const [op, selection] of steps) paused[op](selection);
    for (const [partition, expected] of expectations) expect(paused.isPaused("t", partition)).toBe(expected);
    expect(paused.isPaused("other", 0)).toBe(false);
  });

  it("lists its state per topic, forgetting topics with nothing paused", () => {
    const paused = new PausedPartitions();
    paused.pause([{ topic: "b", partitions: [3, 1] }, { topic: "a" }, { topic: "c", partitions: [0] }]);
    paused.resume([{ topic: "a", partitions: [4] }, { topic: "c", partitions: [0] }]);
    expect(paused.all()).toEqual([
      { topic: "a", all: true, except: [4] },
      { topic: "b", all: false, partitions: [1, 3] },
    ]);
  });
});
