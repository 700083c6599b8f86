import { describe, expect, test } from "vitest";
import type { TopicPartitionOffset } from "@novatrade/kafka";
import { OffsetCommitter } from "./offset-committer.js";
import { OffsetTracker } from "./offset-tracker.js";

describe("OffsetCommitter", () => {
  test("overlapping commits run one after the other, so the committed offset never moves backwards", async () => {
    const tracker = new OffsetTracker();
    const broker: string[] = [];
    const pending: Array<() => void> = [];
    const committer = new OffsetCommitter(
      tracker,
      (offsets: TopicPartitionOffset[]) =>
        new Promise<void>((resolve) => {
          // The broker answers in reverse order of asking, as two requests on two connections may.
          pending.push(() => {
            broker.push(offsets[0]!.offset);
            resolve();
          });
        }),
      () => {},
    );
    tracker.begin("t", 0, "0");
    tracker.complete("t", 0, "0");
    const first = committer.commitNow();
    await new Promise((resolve) => setImmediate(resolve));
    tracker.begin("t", 0, "1");
    tracker.complete("t", 0, "1");
    const second = committer.commitNow();
    await new Promise((resolve) => setImmediate(resolve));
    // Only the first commit is in flight; the second waits for it.
    expect(pending).toHaveLength(1);
    pending.shift()!();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    pending.shift()!();
    await second;
    expect(broker).toEqual(["1", "2"]);
  });

  test("a failed commit is reported and the next one commits what is committable then", async () => {
    const tracker = new OffsetTracker();
    const errors: unknown[] = [];
    let fail = true;
    const committed: string[] = [];
    const committer = new OffsetCommitter(
      tracker,
      async (offsets) => {
        if (fail) throw new Error("rebalancing");
        committed.push(offsets[0]!.offset);
      },
      (error) => errors.push(error),
    );
    tracker.begin("t", 0, "4");
    tracker.complete("t", 0, "4");
    await committer.commitNow();
    fail = false;
    await committer.commitNow();
    expect(errors).toHaveLength(1);
    expect(committed).toEqual(["5"]);
  });
});
