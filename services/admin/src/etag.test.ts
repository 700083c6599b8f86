import { describe, expect, test } from "vitest";
import { ifNoneMatchHits, strongEtag } from "./etag.js";

describe("strong ETags", () => {
  test("equal for equal bodies, different for different ones, never weak", () => {
    const tag = strongEtag({ data: [1, 2] });
    expect(tag).toBe(strongEtag({ data: [1, 2] }));
    expect(tag).not.toBe(strongEtag({ data: [1, 3] }));
    expect(tag).toMatch(/^"[A-Za-z0-9_-]+"$/);
  });

  test.each([
    [undefined, false],
    ['"a"', true],
    ['"b", "a"', true],
    ['W/"a"', true],
    ["*", true],
    ['"b"', false],
  ])("If-None-Match %j against \"a\" → %s", (header, hit) => {
    expect(ifNoneMatchHits(header, '"a"')).toBe(hit);
  });
});
