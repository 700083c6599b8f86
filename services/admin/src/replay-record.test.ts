import { describe, expect, test } from "vitest";
import { deliveryId, replayDeliveryId } from "@novatrade/domain";
import type { DeliveryRequestRecord } from "@novatrade/event-codec";
import { replayedRequest } from "./replay-record.js";

describe("replayed delivery requests", () => {
  const original: DeliveryRequestRecord = {
    deliveryId: deliveryId("evt_aaaaaaaaaaaaaaaa", "ep_1"),
    eventId: "evt_aaaaaaaaaaaaaaaa",
    eventType: "kyc.vies_check_failed",
    endpointId: "ep_1",
    organizationUuid: "0a0a0a0a-1111-4222-8333-444455556666",
    partnerUuid: null,
    schemaVersion: 2,
    body: '{"id":"evt_aaaaaaaaaaaaaaaa"}',
    attempt: 7,
    retrySchedule: [1, 2, 3],
    firstAttemptAt: 1_000,
    notBefore: 5_000,
    isMeta: false,
    replayId: null,
    createdAt: 900,
  };

  test("keep the event id and body, get their own delivery id, attempt 1 now on the current schedule, and the replay id", () => {
    const replayed = replayedRequest(original, { replayId: "rpl_1", now: 10_000, retrySchedule: [5_000, 300_000] });
    expect(replayed).toEqual({
      ...original,
      deliveryId: replayDeliveryId(original.eventId, "ep_1", "rpl_1"),
      attempt: 1,
      retrySchedule: [5_000, 300_000],
      firstAttemptAt: null,
      notBefore: 10_000,
      replayId: "rpl_1",
      createdAt: 10_000,
    });
    expect(replayed.deliveryId).not.toBe(original.deliveryId);
    // Re-producing the same job's replay gives the same delivery id (a resumed job duplicates nothing new).
    expect(replayedRequest(original, { replayId: "rpl_1", now: 20_000, retrySchedule: [] }).deliveryId).toBe(replayed.deliveryId);
    expect(replayedRequest(original, { replayId: "rpl_2", now: 20_000, retrySchedule: [] }).deliveryId).not.toBe(replayed.deliveryId);
  });
});
