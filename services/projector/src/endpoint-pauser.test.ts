import { describe, expect, it } from "vitest";
import type { EndpointConfig } from "@novatrade/endpoint-config";
import { pauseEndpoint } from "./endpoint-pauser.js";

const T = 1_767_000_000_000;
const endpoint = (fields: Partial<EndpointConfig>): EndpointConfig =>
  ({ endpointId: "ep_1", organizationUuid: "org", url: "https://x", description: "", eventTypes: ["kyc.*"], partnerIds: null, acceptedSchemaVersions: [1], secrets: [], status: "ACTIVE", maxInFlight: 10, rateLimitPerSecond: null, createdAt: T - 10, updatedAt: T - 10, revision: 3, ...fields }) as EndpointConfig;

async function pause(current: EndpointConfig | undefined, triggeredAt = T, now = T + 5) {
  const written: EndpointConfig[] = [];
  const outcome = await pauseEndpoint({ directory: { get: () => current }, publisher: { put: async (config) => void written.push(config) } }, "ep_1", triggeredAt, now);
  return { ...outcome, written };
}

describe("pauseEndpoint", () => {
  it("writes the next revision, PAUSED, dated no earlier than the failure", async () => {
    const { result, written } = await pause(endpoint({}));
    expect(result).toBe("paused");
    expect(written).toEqual([expect.objectContaining({ status: "PAUSED", revision: 4, updatedAt: T + 5 })]);
    const ahead = await pause(endpoint({}), T + 60_000, T);
    expect(ahead.written[0]!.updatedAt).toBe(T + 60_000);
  });

  it.each<[string, EndpointConfig | undefined, string]>([
    ["resumed or edited after the failure: stale", endpoint({ updatedAt: T + 1 }), "stale"],
    ["paused at or after the failure: this pause, carried out before", endpoint({ status: "PAUSED", updatedAt: T }), "already_paused"],
    ["paused by hand before the failure", endpoint({ status: "PAUSED", updatedAt: T - 1 }), "paused_before"],
    ["disabled", endpoint({ status: "DISABLED" }), "not_active"],
    ["deleted", undefined, "missing"],
  ])("%s: nothing written", async (_name, current, expected) => {
    const { result, written } = await pause(current);
    expect(result).toBe(expected);
    expect(written).toEqual([]);
  });
});
