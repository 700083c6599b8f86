import { describe, expect, test } from "vitest";
import { PartitionChoices, recordingPartitioner } from "./partition-choices.js";

describe("PartitionChoices", () => {
  test("every chosen partition acknowledged: nothing missing", () => {
    const choices = new PartitionChoices();
    const a = { value: "a" };
    const b = { value: "b" };
    choices.record(a, 0);
    choices.record(b, 2);
    expect(choices.unacknowledged([{ topic: "t", messages: [a, b] }], [{ topic: "t", partition: 0 }, { topic: "t", partition: 2 }])).toEqual([]);
  });

  test("a partition the send never acknowledged is reported with its message count (kafkajs' skipped partition after a leader move)", () => {
    const choices = new PartitionChoices();
    const messages = [{ value: "a" }, { value: "b" }, { value: "c" }];
    choices.record(messages[0]!, 0);
    choices.record(messages[1]!, 1);
    choices.record(messages[2]!, 1);
    expect(choices.unacknowledged([{ topic: "t", messages }], [{ topic: "t", partition: 0 }])).toEqual([{ topic: "t", partition: 1, messages: 2 }]);
  });

  test("the same partition number of another topic does not count", () => {
    const choices = new PartitionChoices();
    const a = { value: "a" };
    choices.record(a, 0);
    expect(choices.unacknowledged([{ topic: "t1", messages: [a] }], [{ topic: "t2", partition: 0 }])).toEqual([{ topic: "t1", partition: 0, messages: 1 }]);
  });

  test("the last choice wins (a retry re-partitions after the partition count grew)", () => {
    const choices = new PartitionChoices();
    const a = { value: "a" };
    choices.record(a, 0);
    choices.record(a, 3);
    expect(choices.unacknowledged([{ topic: "t", messages: [a] }], [{ topic: "t", partition: 3 }])).toEqual([]);
    expect(choices.unacknowledged([{ topic: "t", messages: [a] }], [{ topic: "t", partition: 0 }])).toEqual([{ topic: "t", partition: 3, messages: 1 }]);
  });

  test("a message pinned by the caller counts under its own partition", () => {
    const choices = new PartitionChoices();
    expect(choices.unacknowledged([{ topic: "t", messages: [{ partition: 4 }] }], [])).toEqual([{ topic: "t", partition: 4, messages: 1 }]);
    expect(choices.unacknowledged([{ topic: "t", messages: [{ partition: 4 }] }], [{ topic: "t", partition: 4 }])).toEqual([]);
  });

  test("recordingPartitioner returns the inner choice and records it", () => {
    const choices = new PartitionChoices();
    const partitioner = recordingPartitioner(choices, ({ message }: { message: { key: string } }) => (message.key === "x" ? 5 : 1));
    const x = { key: "x" };
    expect(partitioner({ message: x })).toBe(5);
    expect(choices.unacknowledged([{ topic: "t", messages: [x] }], [])).toEqual([{ topic: "t", partition: 5, messages: 1 }]);
  });
});
