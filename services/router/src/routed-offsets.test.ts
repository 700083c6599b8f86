import { describe, expect, it } from "vitest";
import type { TopicPartitionOffset } from "@novatrade/kafka";
import { RoutedOffsets } from "./routed-offsets.js";

function recorder(failFirst = 0) {
  const commits: TopicPartitionOffset[][] = [];
  const errors: unknown[] = [];
  let failures = failFirst;
  const offsets = new RoutedOffsets(
    async (list) => {
      commits.push(list);
      if (failures-- > 0) throw new Error("rebalance in progress");
    },
    (error) => errors.push(error),
  );
  return { offsets, commits, errors };
}

describe("RoutedOffsets", () => {
  it("commits the latest routed offset of each partition once; nothing pending, nothing sent", async () => {
    const { offsets, commits } = recorder();
    offsets.routed("d", 0, "5");
    offsets.routed("d", 0, "9");
    offsets.routed("d", 1, "3");
    offsets.routed("d", 0, "7"); // an older one never moves a partition back
    await offsets.commitNow();
    await offsets.commitNow();
    expect(commits).toEqual([
      [
        { topic: "d", partition: 0, offset: "9" },
        { topic: "d", partition: 1, offset: "3" },
      ],
    ]);
  });

  it("one commit at a time: one asked for while another runs sends what came meanwhile, after it", async () => {
    const commits: string[][] = [];
    let release: () => void = () => {};
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const offsets = new RoutedOffsets(async (list) => {
      commits.push(list.map(({ offset }) => offset));
      if (commits.length === 1) await blocked;
    }, () => {});
    offsets.routed("d", 0, "1");
    const first = offsets.commitNow();
    while (commits.length === 0) await new Promise((resolve) => setImmediate(resolve));
    offsets.routed("d", 0, "2");
    const second = offsets.commitNow();
    await new Promise((resolve) => setImmediate(resolve));
    expect(commits).toEqual([["1"]]); // the second waits for the first to be answered
    release();
    await Promise.all([first, second]);
    expect(commits).toEqual([["1"], ["2"]]);
  });

  it("a failed commit is kept for the next one, unless a newer offset came meanwhile; revoked partitions are dropped", async () => {
    const { offsets, commits, errors } = recorder(1);
    offsets.routed("d", 0, "4");
    offsets.routed("d", 1, "8");
    await offsets.commitNow();
    expect(errors).toHaveLength(1);
    offsets.routed("d", 0, "6");
    offsets.retainOnly(new Set(["0:d"]));
    await offsets.commitNow();
    expect(commits.at(-1)).toEqual([{ topic: "d", partition: 0, offset: "6" }]);
  });
});
