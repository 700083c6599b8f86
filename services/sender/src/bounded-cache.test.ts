import { describe, expect, test } from "vitest";
import { BoundedCache } from "./bounded-cache.js";

describe("BoundedCache", () => {
  test("makes a value once per key", () => {
    const cache = new BoundedCache<number>(10);
    let made = 0;
    expect(cache.getOrMake("a", () => ++made)).toBe(1);
    expect(cache.getOrMake("a", () => ++made)).toBe(1);
    expect(made).toBe(1);
  });

  test("drops the oldest entry past its capacity", () => {
    const cache = new BoundedCache<string>(2);
    cache.getOrMake("a", () => "a1");
    cache.getOrMake("b", () => "b1");
    cache.getOrMake("c", () => "c1");
    expect(cache.size).toBe(2);
    expect(cache.getOrMake("a", () => "a2")).toBe("a2");
    expect(cache.getOrMake("c", () => "c2")).toBe("c1");
  });

  test("does not remember a failure", () => {
    const cache = new BoundedCache<string>(2);
    expect(() => cache.getOrMake("a", () => { throw new Error("no"); })).toThrow("no");
    expect(cache.getOrMake("a", () => "a1")).toBe("a1");
  });
});
