import { describe, expect, test } from "vitest";
import { ConfigError } from "@novatrade/domain";
import { SecretBox, SecretDecryptionError } from "./secret-box.js";

const key = Buffer.alloc(32, 7).toString("base64");
const otherKey = Buffer.alloc(32, 8).toString("base64");
const secret = "whsec_" + Buffer.alloc(32, 1).toString("base64");

describe("SecretBox", () => {
  test("opens what it sealed for the same endpoint", () => {
    const box = SecretBox.fromBase64Key(key);
    const sealed = box.seal(secret, "ep_1");
    expect(sealed).not.toContain(secret);
    expect(sealed.startsWith("v1.")).toBe(true);
    expect(box.open(sealed, "ep_1")).toBe(secret);
  });

  test("two seals of one secret differ (fresh IV)", () => {
    const box = SecretBox.fromBase64Key(key);
    expect(box.seal(secret, "ep_1")).not.toBe(box.seal(secret, "ep_1"));
  });

  test.each([
    ["another endpoint's record", (s: string) => ({ sealed: s, endpoint: "ep_2", box: SecretBox.fromBase64Key(key) })],
    ["another key", (s: string) => ({ sealed: s, endpoint: "ep_1", box: SecretBox.fromBase64Key(otherKey) })],
    ["a tampered ciphertext", (s: string) => ({ sealed: s.slice(0, -2) + (s.endsWith("A") ? "BB" : "AA"), endpoint: "ep_1", box: SecretBox.fromBase64Key(key) })],
    ["garbage", () => ({ sealed: "not-a-secret", endpoint: "ep_1", box: SecretBox.fromBase64Key(key) })],
  ])("refuses %s", (_name, make) => {
    const sealed = SecretBox.fromBase64Key(key).seal(secret, "ep_1");
    const { sealed: input, endpoint, box } = make(sealed);
    expect(() => box.open(input, endpoint)).toThrow(SecretDecryptionError);
  });

  test("a key of the wrong size is a configuration error naming the variable", () => {
    expect(() => SecretBox.fromBase64Key(Buffer.alloc(16).toString("base64"))).toThrow(ConfigError);
    expect(() => SecretBox.fromBase64Key(Buffer.alloc(16).toString("base64"))).toThrow(/ENDPOINT_SECRETS_KEY/);
  });

  test("serialises to nothing secret", () => {
    expect(JSON.stringify({ box: SecretBox.fromBase64Key(key) })).toBe('{"box":"[SecretBox]"}');
  });
});
