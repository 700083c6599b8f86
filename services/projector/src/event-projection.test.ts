import { describe, expect, it } from "vitest";
import type { EventEnvelope } from "@novatrade/domain";
import { complianceInput } from "./event-projection.js";

const envelope = (type: string, data: Record<string, unknown>) =>
  ({ id: "evt_1", type, schemaVersion: 1, source: "SYSTEM", createdAt: "2026-12-01T00:00:00.000Z", organizationUuid: "ORG-A", partnerUuid: null, data }) as EventEnvelope;

describe("complianceInput", () => {
  it("reads a status change", () => {
    expect(complianceInput(envelope("compliance.status_changed", { orderId: "o1", orderReference: "R1", toStatus: "VALID", changedAt: "2026-12-01T10:00:00.000Z" }))).toEqual({
      kind: "status", eventId: "evt_1", organizationUuid: "org-a", orderId: "o1", orderReference: "R1", status: "VALID", at: Date.UTC(2026, 11, 1, 10),
    });
  });

  it("reads a decision", () => {
    expect(complianceInput(envelope("compliance.decision_made", { orderId: "o1", orderReference: null, verdict: "VAT_APPLICABLE", decidedAt: "2026-12-01T11:00:00.000Z" }))).toMatchObject({
      kind: "decision", verdict: "VAT_APPLICABLE", orderReference: null, at: Date.UTC(2026, 11, 1, 11),
    });
  });

  it("ignores other types", () => {
    expect(complianceInput(envelope("kyc.vies_check_failed", {}))).toBeNull();
  });
});
