import { describe, expect, test } from "vitest";
import { DeletedEndpoints } from "./deleted-endpoints.js";

function deleted(options: { retentionMs?: number; maxEntries?: number } = {}) {
  const clock = { now: 1_000_000 };
  const set = new DeletedEndpoints({ retentionMs: options.retentionMs ?? 60_000, maxEntries: options.maxEntries ?? 100, now: () => clock.now });
  return { set, clock };
}

describe("DeletedEndpoints", () => {
  test("remembers a deletion for the retention, then forgets it", () => {
    const { set, clock } = deleted({ retentionMs: 60_000 });
    set.add("ep_a");
    clock.now += 59_999;
    expect(set.has("ep_a")).toBe(true);
    clock.now += 1;
    expect(set.has("ep_a")).toBe(false);
    expect(set.size).toBe(0);
  });

  test("never holds more than maxEntries: the oldest deletions go first", () => {
    const { set, clock } = deleted({ maxEntries: 3 });
    for (const id of ["ep_1", "ep_2", "ep_3", "ep_4", "ep_5"]) {
      set.add(id);
      clock.now += 1;
    }
    expect(set.size).toBe(3);
    expect(["ep_1", "ep_2", "ep_3", "ep_4", "ep_5"].map((id) => set.has(id))).toEqual([false, false, true, true, true]);
  });

  test("thousands of endpoints deleted over a day leave only the last retention's worth", () => {
    const { set, clock } = deleted({ retentionMs: 3_600_000, maxEntries: 100_000 });
    for (let i = 0; i < 24 * 60; i++) {
      clock.now += 60_000;
      set.add(`ep_${i}`);
    }
    expect(set.size).toBe(60);
  });

  test("a deletion read again restarts its retention; a re-created endpoint is no longer deleted", () => {
    const { set, clock } = deleted({ retentionMs: 60_000 });
    set.add("ep_a");
    set.add("ep_b");
    clock.now += 50_000;
    set.add("ep_a");
    set.delete("ep_b");
    clock.now += 50_000;
    expect(set.has("ep_a")).toBe(true);
    expect(set.has("ep_b")).toBe(false);
  });
});
