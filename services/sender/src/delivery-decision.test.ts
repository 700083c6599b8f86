import { describe, expect, test } from "vitest";
import type { DeliveryRequestRecord } from "@novatrade/event-codec";
import type { EndpointConfig } from "@novatrade/endpoint-config";
import { decide, dueSoonWaitMs, UNKNOWN_ENDPOINT_GRACE_MS, type DeliverySource, type EndpointView } from "./delivery-decision.js";

const now = Date.UTC(2026, 11, 1, 6, 0, 0);
const ORG = "5b7f2c1e-9d3a-4e8b-a6f0-1c2d3e4f5a6b";

const request = (overrides: Partial<DeliveryRequestRecord> = {}): DeliveryRequestRecord => ({
  deliveryId: "dlv_1",
  eventId: "evt_1",
  eventType: "kyc.vies_check_failed",
  endpointId: "ep_1",
  organizationUuid: ORG,
  partnerUuid: null,
  schemaVersion: 1,
  body: "{}",
  attempt: 1,
  retrySchedule: [5_000],
  firstAttemptAt: null,
  notBefore: now,
  isMeta: false,
  replayId: null,
  createdAt: now,
  ...overrides,
});

const endpoint = (overrides: Partial<EndpointConfig> = {}): EndpointConfig =>
  ({ endpointId: "ep_1", organizationUuid: ORG, status: "ACTIVE", maxInFlight: 10, rateLimitPerSecond: null, ...overrides }) as EndpointConfig;

const view = (overrides: Partial<EndpointView> = {}): EndpointView => ({
  config: endpoint(),
  deleted: false,
  unknownSince: undefined,
  backlog: 0,
  backlogLimit: 5,
  laneHeld: false,
  ...overrides,
});

const retry = { attempt: 2, notBefore: now - 1 };

describe("decide: one admission rule for first attempts and retries", () => {
  test.each<[string, DeliverySource, Partial<DeliveryRequestRecord>, Partial<EndpointView>, object]>([
    ["a due first attempt", "delivery", {}, {}, { action: "submit" }],
    ["a due retry", "retry", retry, {}, { action: "submit" }],
    ["a retry not yet due: hold until it is", "retry", { attempt: 2, notBefore: now + 1_500 }, {}, { action: "hold", reason: "not-due", recheckAfterMs: 1_500 }],
    // A first attempt is due when routed: the router's clock is not compared with ours.
    ["a first attempt 'from the future' (clock skew)", "delivery", { notBefore: now + 60_000 }, {}, { action: "submit" }],
    ["an endpoint not known yet: hold and look again", "delivery", {}, { config: undefined, unknownSince: now - 1_000 }, { action: "hold", reason: "unknown-endpoint", recheckAfterMs: 500 }],
    ["an endpoint unknown past the grace period: skip", "retry", retry, { config: undefined, unknownSince: now - UNKNOWN_ENDPOINT_GRACE_MS }, { action: "skip", reason: "endpoint_unknown" }],
    ["a deleted endpoint: skip", "delivery", {}, { config: undefined, deleted: true }, { action: "skip", reason: "endpoint_deleted" }],
    ["a disabled endpoint: skip", "retry", retry, { config: endpoint({ status: "DISABLED" }) }, { action: "skip", reason: "endpoint_disabled" }],
    ["another organization's endpoint: dead-letter", "delivery", { organizationUuid: "00000000-0000-4000-8000-000000000000" }, {}, { action: "dead-letter", reason: "organization_mismatch" }],
    ["a paused endpoint's own topic: hold it", "delivery", {}, { config: endpoint({ status: "PAUSED" }), laneHeld: true }, { action: "hold", reason: "endpoint-held", recheckAfterMs: null }],
    ["a paused endpoint's retry: park it off the shared partition", "retry", retry, { config: endpoint({ status: "PAUSED" }), laneHeld: true }, { action: "park", reason: "endpoint-held" }],
    ["a lane held for a fault of ours: park the retry", "retry", retry, { laneHeld: true }, { action: "park", reason: "endpoint-held" }],
    ["a full lane: hold the endpoint's own topic", "delivery", {}, { backlog: 5 }, { action: "hold", reason: "backlog-full", recheckAfterMs: null }],
    ["a full lane: a retry is parked, never queued past the limit", "retry", retry, { backlog: 5 }, { action: "park", reason: "backlog-full" }],
    ["one below the limit: submit", "retry", retry, { backlog: 4 }, { action: "submit" }],
  ])("%s", (_name, source, requestOverrides, viewOverrides, expected) => {
    expect(decide(request(requestOverrides), source, view(viewOverrides), now)).toMatchObject(expected);
  });

  test("a retry not due waits even for a paused endpoint (time first, then the endpoint)", () => {
    expect(decide(request({ attempt: 3, notBefore: now + 10 }), "retry", view({ config: endpoint({ status: "PAUSED" }) }), now)).toMatchObject({ action: "hold", reason: "not-due" });
  });
});

describe("dueSoonWaitMs: a retry due within the horizon is waited for in place", () => {
  test.each<[string, Parameters<typeof dueSoonWaitMs>[0], number | null]>([
    ["not due for 40 ms", { action: "hold", reason: "not-due", recheckAfterMs: 40 }, 40],
    ["due exactly at the horizon", { action: "hold", reason: "not-due", recheckAfterMs: 100 }, 100],
    ["due later than the horizon: held", { action: "hold", reason: "not-due", recheckAfterMs: 101 }, null],
    ["another hold reason", { action: "hold", reason: "unknown-endpoint", recheckAfterMs: 10 }, null],
    ["a hold released by an event", { action: "hold", reason: "endpoint-held", recheckAfterMs: null }, null],
    ["not a hold", { action: "skip", reason: "endpoint_deleted" }, null],
  ])("%s", (_case, decision, expected) => {
    expect(dueSoonWaitMs(decision, 100)).toBe(expected);
  });
});
