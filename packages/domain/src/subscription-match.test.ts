import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors.js";
import {
  matchSubscription,
  negotiateVersions,
  selectMatchingEndpoints,
  validateAcceptedSchemaVersions,
  validatePartnerIds,
  type EndpointSubscription,
  type MatchableEvent,
} from "./subscription-match.js";

const ORG = "550e8400-e29b-41d4-a716-446655440000";
const OTHER_ORG = "660e8400-e29b-41d4-a716-446655440000";
const PARTNER_A = "11111111-1111-4111-8111-111111111111";
const PARTNER_B = "22222222-2222-4222-8222-222222222222";

const endpoint = (overrides: Partial<EndpointSubscription> = {}): EndpointSubscription => ({
  endpointId: "ep_1",
  organizationUuid: ORG,
  eventTypes: ["compliance.*"],
  partnerIds: null,
  acceptedSchemaVersions: [1],
  status: "ACTIVE",
  ...overrides,
});

const event = (overrides: Partial<MatchableEvent> = {}): MatchableEvent => ({
  type: "compliance.status_changed",
  source: "SYSTEM",
  organizationUuid: ORG,
  partnerUuid: PARTNER_A,
  ...overrides,
});

describe("matchSubscription", () => {
  it.each<[string, Partial<EndpointSubscription>, Partial<MatchableEvent>, ReturnType<typeof matchSubscription>]>([
    ["active, matching", {}, {}, { matched: true, held: false }],
    ["WEB_APP source is delivered", {}, { source: "WEB_APP" }, { matched: true, held: false }],
    ["paused endpoint still matches, held", { status: "PAUSED" }, {}, { matched: true, held: true }],
    ["uuid case does not matter", { organizationUuid: ORG.toUpperCase(), partnerIds: [PARTNER_A.toUpperCase()] }, {}, { matched: true, held: false }],
    ["other organization", {}, { organizationUuid: OTHER_ORG }, { matched: false, reason: "other_organization" }],
    ["tenancy is checked before everything", { status: "DISABLED" }, { organizationUuid: OTHER_ORG, source: "API" }, { matched: false, reason: "other_organization" }],
    ["disabled", { status: "DISABLED" }, {}, { matched: false, reason: "disabled" }],
    ["deleted", { deleted: true }, {}, { matched: false, reason: "disabled" }],
    ["deleted though paused", { deleted: true, status: "PAUSED" }, {}, { matched: false, reason: "disabled" }],
    ["API source is echo-suppressed", {}, { source: "API" }, { matched: false, reason: "api_source" }],
    ["type not subscribed", {}, { type: "kyc.vies_check_failed" }, { matched: false, reason: "type" }],
    ["partner listed", { partnerIds: [PARTNER_B, PARTNER_A] }, {}, { matched: true, held: false }],
    ["partner not listed", { partnerIds: [PARTNER_B] }, {}, { matched: false, reason: "partner" }],
    ["partner-less event, all-partners endpoint", {}, { partnerUuid: null }, { matched: true, held: false }],
    ["partner-less event, partner-limited endpoint", { partnerIds: [PARTNER_A] }, { partnerUuid: null }, { matched: false, reason: "partner" }],
    ["meta events route like others", { eventTypes: ["webhook.*"] }, { type: "webhook.endpoint_auto_paused", partnerUuid: null }, { matched: true, held: false }],
    ["an auto-pause event about another endpoint", { eventTypes: ["webhook.*"] }, { type: "webhook.endpoint_auto_paused", partnerUuid: null, data: { endpointId: "ep_other" } }, { matched: true, held: false }],
    ["an auto-pause event never goes to the endpoint it paused", { eventTypes: ["webhook.*"], status: "PAUSED" }, { type: "webhook.endpoint_auto_paused", partnerUuid: null, data: { endpointId: "ep_1" } }, { matched: false, reason: "subject_endpoint" }],
    ["the subject rule is only for auto-pause events", { eventTypes: ["webhook.*"] }, { type: "webhook.delivery_failed_terminal", partnerUuid: null, data: { endpointId: "ep_1" } }, { matched: true, held: false }],
  ])("%s", (_name, ep, ev, expected) => {
    expect(matchSubscription(endpoint(ep), event(ev))).toEqual(expected);
  });
});

describe("selectMatchingEndpoints", () => {
  it("keeps matching endpoints in order, paused included", () => {
    const endpoints = [
      endpoint({ endpointId: "ep_a" }),
      endpoint({ endpointId: "ep_b", organizationUuid: OTHER_ORG }),
      endpoint({ endpointId: "ep_c", status: "PAUSED" }),
      endpoint({ endpointId: "ep_d", status: "DISABLED" }),
      endpoint({ endpointId: "ep_e", eventTypes: ["kyc.*"] }),
      endpoint({ endpointId: "ep_f", partnerIds: [PARTNER_A] }),
    ];
    expect(selectMatchingEndpoints(endpoints, event()).map((e) => e.endpointId)).toEqual(["ep_a", "ep_c", "ep_f"]);
    expect(selectMatchingEndpoints(endpoints, event({ source: "API" }))).toEqual([]);
  });
});

describe("negotiateVersions", () => {
  it.each([
    [[1], [1], [1]],
    [[1, 3, 2], [1, 2, 3], [3, 2, 1]],
    [[1, 2, 2, 1], [1, 2], [2, 1]],
    [[3], [1, 2], []],
    [[4, 2], [1, 2, 3], [2]],
    [[], [1], []],
    [[0, -1, 1.5, 1], [0, -1, 1.5, 1], [1]],
  ])("accepted %j, available %j → %j", (accepted, available, expected) => {
    expect(negotiateVersions(accepted, available)).toEqual(expected);
  });
});

describe("registration field validation", () => {
  it.each([
    [null, null],
    [[PARTNER_A], [PARTNER_A]],
    [[PARTNER_A, PARTNER_B], [PARTNER_A, PARTNER_B]],
  ])("partnerIds %j ok", (input, expected) => {
    expect(validatePartnerIds(input)).toEqual(expected);
  });

  it.each([
    [[], "partnerIds"],
    ["x", "partnerIds"],
    [undefined, "partnerIds"],
    [[PARTNER_A, "nope"], "partnerIds[1]"],
    [[PARTNER_A, PARTNER_A.toUpperCase()], "partnerIds[1]"],
  ])("partnerIds %j rejected at %s", (input, field) => {
    expect(() => validatePartnerIds(input)).toThrowError(ValidationError);
    expect(() => validatePartnerIds(input)).toThrowError(new RegExp(`^${field.replace(/[[\]]/g, "\\$&")}:`));
  });

  it.each([
    [[1], true],
    [[2, 1], true],
    [[], false],
    [[0], false],
    [[1, 1], false],
    [[1.5], false],
    [["1"], false],
    [null, false],
  ])("acceptedSchemaVersions %j ok=%s", (input, ok) => {
    if (ok) expect(validateAcceptedSchemaVersions(input)).toEqual(input);
    else expect(() => validateAcceptedSchemaVersions(input)).toThrowError(ValidationError);
  });
});
