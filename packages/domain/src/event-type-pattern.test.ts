import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors.js";
import { EVENT_TYPES } from "./event-types.js";
import {
  expandEventTypePatterns,
  matchesEventType,
  parseEventTypePattern,
  validateEventTypePatterns,
} from "./event-type-pattern.js";

describe("parseEventTypePattern", () => {
  it.each([
    ["compliance.status_changed", { kind: "exact", type: "compliance.status_changed" }],
    ["webhook.delivery_failed_terminal", { kind: "exact", type: "webhook.delivery_failed_terminal" }],
    ["compliance.*", { kind: "domain", domain: "compliance" }],
    ["kyc.*", { kind: "domain", domain: "kyc" }],
    ["export_file.*", { kind: "domain", domain: "export_file" }],
    ["prospect.*", { kind: "domain", domain: "prospect" }],
    ["self_service_invitation.*", { kind: "domain", domain: "self_service_invitation" }],
    ["webhook.*", { kind: "domain", domain: "webhook" }],
  ])("accepts %s", (pattern, expected) => {
    expect(parseEventTypePattern(pattern)).toMatchObject({ ...expected, pattern });
  });

  it.each([
    ["*", /root wildcard/],
    ["*.*", /root wildcard/],
    ["compliance", /unknown event type/],
    ["compliance.unknown", /unknown event type/],
    ["Compliance.status_changed", /unknown event type/],
    [" kyc.*", /unknown event domain/],
    ["billing.*", /unknown event domain/],
    ["kyc.**", /unknown event type/],
    ["kyc.vies.*", /unknown event domain/],
    ["kyc.vies_*", /unknown event type/],
    ["*.status_changed", /unknown event type/],
    ["", /unknown event type/],
    [42, /must be a string/],
    [null, /must be a string/],
  ])("rejects %j", (pattern, message) => {
    expect(() => parseEventTypePattern(pattern, "eventTypes[3]")).toThrowError(message);
    try {
      parseEventTypePattern(pattern, "eventTypes[3]");
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe("eventTypes[3]");
    }
  });
});

describe("validateEventTypePatterns", () => {
  it.each([
    [["compliance.status_changed"]],
    [["compliance.*", "kyc.vies_check_failed", "webhook.*"]],
    [["kyc.vies_check_failed", "kyc.verification_completed"]],
  ])("accepts %j unchanged", (patterns) => {
    expect(validateEventTypePatterns(patterns)).toEqual(patterns);
  });

  it.each([
    ["not an array", "kyc.*", "eventTypes", /must be an array/],
    ["empty", [], "eventTypes", /at least one/],
    ["root wildcard", ["kyc.*", "*"], "eventTypes[1]", /root wildcard/],
    ["unknown type", ["nope.nope"], "eventTypes[0]", /unknown/],
    ["non-string", ["kyc.*", 3], "eventTypes[1]", /string/],
    ["duplicate type", ["kyc.vies_check_failed", "prospect.submitted", "kyc.vies_check_failed"], "eventTypes[2]", /duplicates eventTypes\[0\]/],
    ["duplicate wildcard", ["kyc.*", "kyc.*"], "eventTypes[1]", /duplicates eventTypes\[0\]/],
    ["type covered by wildcard", ["kyc.vies_check_failed", "kyc.*"], "eventTypes[0]", /covered by eventTypes\[1\]/],
  ])("rejects %s", (_name, input, field, message) => {
    let caught: unknown;
    try {
      validateEventTypePatterns(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).field).toBe(field);
    expect((caught as ValidationError).message).toMatch(message);
  });
});

describe("matchesEventType", () => {
  it.each([
    [["compliance.*"], "compliance.status_changed", true],
    [["compliance.*"], "compliance.decision_made", true],
    [["compliance.*"], "kyc.vies_check_failed", false],
    [["kyc.vies_check_failed"], "kyc.vies_check_failed", true],
    [["kyc.vies_check_failed"], "kyc.verification_completed", false],
    [["prospect.*", "webhook.endpoint_auto_paused"], "webhook.endpoint_auto_paused", true],
    [["prospect.*", "webhook.endpoint_auto_paused"], "webhook.delivery_failed_terminal", false],
    [["self_service_invitation.*"], "self_service_invitation.expired", true],
    // prefix of a domain name is not the domain
    [["self_service.*"], "self_service_invitation.used", false],
    // stored junk never widens a subscription
    [["*"], "kyc.vies_check_failed", false],
    [["*.*"], "kyc.vies_check_failed", false],
    [["kyc.*"], "kyc", false],
    [[], "kyc.vies_check_failed", false],
  ])("%j matches %s: %s", (patterns, type, expected) => {
    expect(matchesEventType(patterns, type)).toBe(expected);
  });

  it("expands patterns to known types", () => {
    expect(expandEventTypePatterns(["kyc.*", "prospect.submitted"])).toEqual([
      "kyc.vies_check_failed",
      "kyc.verification_completed",
      "prospect.submitted",
    ]);
    expect(expandEventTypePatterns(["compliance.*", "kyc.*", "export_file.*", "prospect.*", "self_service_invitation.*", "webhook.*"])).toEqual([
      ...EVENT_TYPES,
    ]);
  });
});
