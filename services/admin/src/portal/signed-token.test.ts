import { describe, expect, test } from "vitest";
import { signToken, verifyToken } from "./signed-token.js";

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 8);

describe("signed tokens", () => {
  const token = signToken(KEY, "link", { exp: 2_000, org: "o-1" });

  test("verify with the same key and purpose before expiry", () => {
    expect(verifyToken(KEY, "link", token, 1_999)).toEqual({ exp: 2_000, org: "o-1" });
  });

  test.each([
    ["expired", KEY, "link", token, 2_000],
    ["another key", OTHER_KEY, "link", token, 1_000],
    ["another purpose", KEY, "session", token, 1_000],
    ["a changed payload", KEY, "link", `${Buffer.from(JSON.stringify({ exp: 9_999, org: "o-2" })).toString("base64url")}.${token.split(".")[1]}`, 1_000],
    ["a cut signature", KEY, "link", token.slice(0, -2), 1_000],
    ["garbage", KEY, "link", "a.b.c", 1_000],
    ["empty", KEY, "link", "", 1_000],
  ])("refuse %s", (_name, key, purpose, presented, now) => {
    expect(verifyToken(key, purpose, presented, now)).toBeNull();
  });
});
