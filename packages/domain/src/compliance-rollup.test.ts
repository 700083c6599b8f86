import { describe, expect, it } from "vitest";
import { applyComplianceEvent, type ComplianceInput, type ComplianceRow } from "./compliance-rollup.js";

const ORG = "5b7f2c1e-9d3a-4e8b-a6f0-1c2d3e4f5a6b";
const status = (eventId: string, value: string, at: number): ComplianceInput => ({ kind: "status", eventId, organizationUuid: ORG, orderId: "o1", orderReference: null, status: value, at });
const decision = (eventId: string, verdict: string, at: number): ComplianceInput => ({ kind: "decision", eventId, organizationUuid: ORG, orderId: "o1", orderReference: "NT-1", verdict, at });

function fold(inputs: ComplianceInput[]): { row: ComplianceRow | null; changes: number } {
  let row: ComplianceRow | null = null;
  let changes = 0;
  for (const input of inputs) {
    const next = applyComplianceEvent(row, input);
    if (next) {
      row = next;
      changes++;
    }
  }
  return { row, changes };
}

describe("applyComplianceEvent", () => {
  it("keeps the latest status and verdict with the newest event as of", () => {
    const { row, changes } = fold([status("evt_a", "INCOMPLETE", 1), status("evt_b", "VALID", 2), decision("evt_c", "VALID_EXPORT", 3)]);
    expect(changes).toBe(3);
    expect(row).toMatchObject({ status: "VALID", statusEventId: "evt_b", verdict: "VALID_EXPORT", orderReference: "NT-1", asOfEventId: "evt_c", asOfAt: 3 });
  });

  it("an older event read late changes nothing", () => {
    const { row, changes } = fold([status("evt_b", "VALID", 2), status("evt_a", "INCOMPLETE", 1)]);
    expect(changes).toBe(1);
    expect(row).toMatchObject({ status: "VALID", asOfEventId: "evt_b" });
  });

  it("the same event twice changes nothing the second time (re-reading is idempotent)", () => {
    expect(fold([status("evt_a", "VALID", 1), status("evt_a", "VALID", 1)]).changes).toBe(1);
  });

  it("reaches the same row in any order", () => {
    const inputs = [status("evt_a", "INCOMPLETE", 1), decision("evt_d", "VAT_APPLICABLE", 4), status("evt_b", "VALID", 2), status("evt_c", "INVALID", 2)];
    const forward = fold(inputs).row;
    expect(fold([...inputs].reverse()).row).toEqual(forward);
    expect(forward).toMatchObject({ status: "INVALID", verdict: "VAT_APPLICABLE", asOfEventId: "evt_d" });
  });
});
