import { describe, expect, it, vi } from "vitest";
import { Listeners } from "./listeners.js";

interface Events {
  ping: { n: number };
}

describe("Listeners", () => {
  it("delivers to listeners until they are removed", () => {
    const listeners = new Listeners<Events>(() => undefined);
    const seen: number[] = [];
    const remove = listeners.on("ping", ({ n }) => {
      seen.push(n);
    });
    listeners.emit("ping", { n: 1 });
    remove();
    listeners.emit("ping", { n: 2 });
    expect(seen).toEqual([1]);
  });

  it("reports a throwing or rejecting listener and still calls the others", async () => {
    const onError = vi.fn();
    const listeners = new Listeners<Events>(onError);
    const after = vi.fn();
    listeners.on("ping", () => {
      throw new Error("sync");
    });
    listeners.on("ping", async () => {
      throw new Error("async");
    });
    listeners.on("ping", after);
    listeners.emit("ping", { n: 1 });
    await vi.waitFor(() => expect(onError).toHaveBeenCalledTimes(2));
    expect(after).toHaveBeenCalledOnce();
  });
});
