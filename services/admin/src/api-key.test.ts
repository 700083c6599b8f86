import { describe, expect, test } from "vitest";
import { apiKeyMatches, apiKeyPrefix, generateApiKey, hashApiKey } from "./api-key.js";

describe("API keys", () => {
  test("a generated key has its kind in the prefix, matches its own hash only, and the prefix is recovered from the key", () => {
    const organization = generateApiKey("organization");
    const operator = generateApiKey("operator");
    expect(organization.key.startsWith(`${organization.prefix}_`)).toBe(true);
    expect(organization.prefix).toMatch(/^nvk_o_[0-9a-f]{12}$/);
    expect(operator.prefix).toMatch(/^nvk_a_[0-9a-f]{12}$/);
    expect(apiKeyPrefix(organization.key)).toBe(organization.prefix);
    expect(apiKeyMatches(organization.key, organization.hash)).toBe(true);
    expect(apiKeyMatches(operator.key, organization.hash)).toBe(false);
    expect(apiKeyMatches(`${organization.key}x`, organization.hash)).toBe(false);
    expect(hashApiKey(organization.key).equals(organization.hash)).toBe(true);
  });

  test.each([["" ], ["nvk_o_123"], ["Bearer nvk_o_0123456789ab_x"], ["nvk_x_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]])("%j is not shaped like a key", (text) => {
    expect(apiKeyPrefix(text)).toBeNull();
  });
});
