import { describe, expect, it } from "vitest";
import { SerialQueue } from "./serial-queue.js";

describe("SerialQueue", () => {
  it("runs one task at a time, in order, and goes on after a failure", async () => {
    const queue = new SerialQueue();
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = queue.run(async () => {
      events.push("first:start");
      await gate;
      events.push("first:end");
      throw new Error("first failed");
    });
    const second = queue.run(async () => {
      events.push("second");
      return 2;
    });
    await Promise.resolve();
    expect(events).toEqual(["first:start"]);
    release();
    await expect(first).rejects.toThrow("first failed");
    await expect(second).resolves.toBe(2);
    expect(events).toEqual(["first:start", "first:end", "second"]);
  });
});
