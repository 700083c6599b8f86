import { describe, expect, it } from "vitest";
import { deliveryOutcome } from "./delivery-outcome.js";

const subject = { deliveryId: "dlv_1", eventId: "evt_1", eventType: "kyc.vies_check_failed", endpointId: "ep_1", organizationUuid: "org-1" };

describe("deliveryOutcome", () => {
  it("fills every field left out with null", () => {
    expect(deliveryOutcome(subject, "SKIPPED", { attempt: 0, attemptedAt: 1_000, errorClass: "endpoint_deleted" })).toEqual({
      ...subject,
      attempt: 0,
      result: "SKIPPED",
      statusCode: null,
      latencyMs: null,
      responseBody: null,
      errorClass: "endpoint_deleted",
      errorMessage: null,
      attemptedAt: 1_000,
      nextAttemptAt: null,
      replayId: null,
    });
  });

  it("keeps the attempt's facts and the replay it belongs to", () => {
    const outcome = deliveryOutcome({ ...subject, replayId: "rpl_1" }, "FAILED_RETRYING", {
      attempt: 3,
      attemptedAt: 5,
      statusCode: 503,
      latencyMs: 12,
      responseBody: "busy",
      errorClass: "http_5xx",
      errorMessage: "503",
      nextAttemptAt: 99,
    });
    expect(outcome).toMatchObject({ attempt: 3, result: "FAILED_RETRYING", statusCode: 503, latencyMs: 12, responseBody: "busy", nextAttemptAt: 99, replayId: "rpl_1" });
  });
});
