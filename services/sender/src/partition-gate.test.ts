import { describe, expect, test } from "vitest";
import type { TopicPartitionOffset, TopicPartitions } from "@novatrade/kafka";
import { manualClock } from "./manual-clock.js";
import { PartitionGate } from "./partition-gate.js";

function fakeConsumer() {
  const calls: string[] = [];
  return {
    calls,
    pauseAt: (position: TopicPartitionOffset) => calls.push(`pauseAt ${position.topic}/${position.partition}@${position.offset}`),
    resume: (selection: TopicPartitions[]) => calls.push(`resume ${selection.map((entry) => `${entry.topic}/${entry.partitions?.join(",")}`).join(" ")}`),
  };
}

describe("PartitionGate", () => {
  test("a partition resumes only when its last reason is lifted", () => {
    const consumer = fakeConsumer();
    const gate = new PartitionGate(consumer, manualClock());
    gate.hold({ topic: "t", partition: 0, offset: "5" }, "backlog-full", null);
    gate.hold({ topic: "t", partition: 0, offset: "5" }, "endpoint-held", null);
    gate.release("t", 0, "backlog-full");
    expect(consumer.calls).toEqual(["pauseAt t/0@5", "pauseAt t/0@5"]);
    gate.releaseTopic("t", "endpoint-held");
    expect(consumer.calls.at(-1)).toBe("resume t/0");
  });

  test("a timed reason lifts itself; holding again replaces its timer", () => {
    const consumer = fakeConsumer();
    const clock = manualClock();
    const gate = new PartitionGate(consumer, clock);
    gate.hold({ topic: "r", partition: 1, offset: "9" }, "not-due", 1_000);
    gate.hold({ topic: "r", partition: 1, offset: "9" }, "not-due", 3_000);
    clock.advance(1_000);
    expect(gate.count("not-due")).toBe(1);
    clock.advance(2_000);
    expect(gate.count("not-due")).toBe(0);
    expect(consumer.calls.filter((call) => call.startsWith("resume"))).toEqual(["resume r/1"]);
  });

  test("a revoked partition is forgotten and resumed, its timer cancelled", () => {
    const consumer = fakeConsumer();
    const clock = manualClock();
    const gate = new PartitionGate(consumer, clock);
    gate.hold({ topic: "r", partition: 0, offset: "1" }, "not-due", 1_000);
    gate.hold({ topic: "r", partition: 1, offset: "1" }, "not-due", 1_000);
    gate.retainOnly(new Set(["1:r"]));
    expect(consumer.calls.at(-1)).toBe("resume r/0");
    clock.advance(1_000);
    expect(consumer.calls.filter((call) => call.startsWith("resume"))).toEqual(["resume r/0", "resume r/1"]);
  });
});
