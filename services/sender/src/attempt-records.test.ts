import { describe, expect, test } from "vitest";
import type { DeliveryRequestRecord } from "@novatrade/event-codec";
import { recordsForAttempt, recordsForSkip } from "./attempt-records.js";

const now = Date.UTC(2026, 11, 1, 6, 0, 0);
const naming = { prefix: "p." };
const base: DeliveryRequestRecord = {
  deliveryId: "dlv_1",
  eventId: "evt_1",
  eventType: "kyc.vies_check_failed",
  endpointId: "ep_1",
  organizationUuid: "org",
  partnerUuid: null,
  schemaVersion: 1,
  body: "{}",
  attempt: 1,
  retrySchedule: [5_000, 300_000],
  firstAttemptAt: null,
  notBefore: now,
  isMeta: false,
  replayId: "rpl_1",
  createdAt: now,
};
const context = { naming, startedAt: now, endedAt: now + 40, random: () => 0.5, jitterRatio: 0.005 };
const failure = { ok: false as const, errorClass: "http_status" as const, message: "503", statusCode: 503, latencyMs: 40, responseBody: "busy" };

describe("recordsForAttempt", () => {
  test("success: a SUCCEEDED outcome only", () => {
    const records = recordsForAttempt(base, { ok: true, statusCode: 204, latencyMs: 40, responseBody: "" }, context);
    expect(records.retry).toBeNull();
    expect(records.terminalEvent).toBe(false);
    expect(records.outcome).toMatchObject({ result: "SUCCEEDED", attempt: 1, statusCode: 204, attemptedAt: now, replayId: "rpl_1" });
  });

  test("a failure with attempts left: FAILED_RETRYING and the next attempt in the topic of its delay, due from the attempt's end", () => {
    const records = recordsForAttempt(base, failure, context);
    expect(records.outcome).toMatchObject({ result: "FAILED_RETRYING", errorClass: "http_status", errorMessage: "503", nextAttemptAt: now + 40 + 5_000 });
    expect(records.retry).toEqual({
      topic: "p.retry.5s",
      delayMs: 5_000,
      request: { ...base, attempt: 2, firstAttemptAt: now, notBefore: now + 5_040 },
    });
  });

  test("the second retry goes to the 5m topic and keeps the first attempt's time", () => {
    const records = recordsForAttempt({ ...base, attempt: 2, firstAttemptAt: now - 9_000 }, failure, context);
    expect(records.retry).toMatchObject({ topic: "p.retry.5m", request: { attempt: 3, firstAttemptAt: now - 9_000 } });
  });

  test("the last failure: FAILED_TERMINAL and a terminal event, but none for a meta event", () => {
    const last = { ...base, attempt: 3 };
    expect(recordsForAttempt(last, failure, context)).toMatchObject({ retry: null, terminalEvent: true, outcome: { result: "FAILED_TERMINAL", nextAttemptAt: null } });
    expect(recordsForAttempt({ ...last, isMeta: true }, failure, context).terminalEvent).toBe(false);
  });
});

describe("recordsForSkip", () => {
  test("a SKIPPED outcome with attempt 0 and the reason", () => {
    expect(recordsForSkip(base, "endpoint_deleted", now)).toMatchObject({
      retry: null,
      terminalEvent: false,
      outcome: { result: "SKIPPED", attempt: 0, errorClass: "endpoint_deleted", statusCode: null, attemptedAt: now },
    });
  });
});
