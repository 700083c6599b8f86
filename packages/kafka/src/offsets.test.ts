import { describe, expect, it } from "vitest";
import { compareOffsets, nextOffset } from "./offsets.js";

describe("nextOffset", () => {
  it.each([
    ["0", "1"],
    ["41", "42"],
    // Beyond Number.MAX_SAFE_INTEGER a JavaScript number would round.
    ["9007199254740993", "9007199254740994"],
    ["9223372036854775806", "9223372036854775807"],
  ])("after %s comes %s", (offset, next) => {
    expect(nextOffset(offset)).toBe(next);
  });

  it.each(["", "1.5", "abc", "1e3"])("rejects %j", (offset) => {
    expect(() => nextOffset(offset)).toThrow(RangeError);
  });
});

describe("compareOffsets", () => {
  it.each([
    ["1", "2", -1],
    ["2", "2", 0],
    ["10", "9", 1],
    ["9007199254740993", "9007199254740992", 1],
    ["-1", "0", -1],
  ])("compares %s with %s", (a, b, expected) => {
    expect(compareOffsets(a, b)).toBe(expected);
  });
});
