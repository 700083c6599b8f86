import { createHash } from "node:crypto";
import type { EventEnvelope, EventType } from "@novatrade/domain";

/**
 * A valid `data` payload per event type and schema version, every field spelt out in schema
 * order so that decode(encode(event)) equals the event. For tests and demo producers.
 */
const SAMPLE_DATA: Record<EventType, Record<number, Record<string, unknown>>> = {
  "compliance.status_changed": {
    1: {
      orderId: "ord_1042",
      orderReference: "ORD-1042",
      fromStatus: "INCOMPLETE",
      toStatus: "VALID",
      missingRequirements: [],
      changedAt: "2026-04-22T10:29:58.000Z",
    },
    2: {
      orderId: "ord_1042",
      orderReference: "ORD-1042",
      fromStatus: "VALID",
      // EXPIRED exists from v2 on: a v1 reader sees UNKNOWN (the enum's default).
      toStatus: "EXPIRED",
      missingRequirements: ["TRANSPORT_DOCUMENT"],
      changedAt: "2026-04-22T10:29:58.000Z",
    },
  },
  "compliance.decision_made": {
    1: {
      orderId: "ord_1042",
      orderReference: "ORD-1042",
      verdict: "VALID_EXPORT",
      automated: true,
      decidedByUserUuid: null,
      reason: null,
      decidedAt: "2026-04-22T10:29:59.000Z",
    },
  },
  "kyc.vies_check_failed": {
    1: {
      buyerId: "buy_77",
      companyName: "Muster Handel GmbH",
      countryCode: "DE",
      vatNumber: "123456789",
      checkedAt: "2026-04-22T06:00:00.000Z",
      lastValidAt: "2026-03-01T06:00:00.000Z",
      viesRequestIdentifier: "WAPIAAAAW1234567",
      openOrderIds: ["ord_1042", "ord_1043"],
    },
  },
  "kyc.verification_completed": {
    1: {
      buyerId: "buy_77",
      verificationId: "4f0a1c2e9b7d4c11",
      idenfyClientId: "buy_77-rep-1",
      identityStatus: "APPROVED",
      amlOutcome: "CLEAR",
      completedAt: "2026-04-22T09:12:00.000Z",
    },
    2: {
      buyerId: "buy_77",
      verificationId: "4f0a1c2e9b7d4c11",
      idenfyClientId: "buy_77-rep-1",
      identityStatus: "APPROVED",
      amlOutcome: "CLEAR",
      completedAt: "2026-04-22T09:12:00.000Z",
      documentCountry: "DE",
    },
  },
  "export_file.generated": {
    1: {
      exportFileId: "exf_9001",
      orderId: "ord_1042",
      fileName: "export-ORD-1042.pdf",
      contentType: "application/pdf",
      sizeBytes: 183_442,
      sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      downloadUrl: "https://files.novatrade.example/exports/exf_9001.pdf?sig=abc123",
      downloadUrlExpiresAt: "2026-04-29T10:30:00.000Z",
      generatedAt: "2026-04-22T10:30:00.000Z",
    },
  },
  "prospect.submitted": {
    1: {
      prospectId: "pro_311",
      companyName: "Rossi Import S.r.l.",
      countryCode: "IT",
      vatNumber: "01234567890",
      contactName: "Giulia Rossi",
      contactEmail: "giulia@rossi-import.example",
      selfServiceLinkId: "ssl_5",
      submittedAt: "2026-04-22T08:45:00.000Z",
    },
  },
  "self_service_invitation.used": {
    1: {
      invitationId: "inv_812",
      buyerId: "buy_77",
      orderId: "ord_1042",
      invitedAt: "2026-04-20T15:00:00.000Z",
      usedAt: "2026-04-22T10:00:00.000Z",
    },
  },
  "self_service_invitation.expired": {
    1: {
      invitationId: "inv_813",
      buyerId: null,
      orderId: "ord_1050",
      recipientEmail: "buyer@example.com",
      invitedAt: "2026-04-08T15:00:00.000Z",
      expiredAt: "2026-04-22T15:00:00.000Z",
    },
  },
  "webhook.endpoint_auto_paused": {
    1: {
      endpointId: "ep_42",
      reason: "CONSECUTIVE_FAILURES",
      consecutiveFailures: 20,
      failingSince: "2026-04-21T02:00:00.000Z",
      pausedAt: "2026-04-22T10:30:00.000Z",
      lastStatusCode: 503,
      lastError: "HTTP 503",
    },
  },
  "webhook.delivery_failed_terminal": {
    1: {
      deliveryId: "dlv_7f3a9c",
      endpointId: "ep_42",
      eventId: "evt_a1b2c3d4e5f6",
      eventType: "compliance.status_changed",
      attempts: 10,
      firstAttemptAt: "2026-04-19T10:30:00.000Z",
      lastAttemptAt: "2026-04-22T10:00:00.000Z",
      lastStatusCode: null,
      lastError: "timeout after 10000 ms",
    },
  },
};

/** Versions sampleEvent() has data for, per type. */
export function sampleVersions(type: EventType): number[] {
  return Object.keys(SAMPLE_DATA[type]).map(Number);
}

/**
 * A valid event of `type` in schema `version` (default 1). The id is derived from the type,
 * version and `seed`, so runs are reproducible and distinct seeds give distinct events.
 */
export function sampleEvent(type: EventType, options: { version?: number; seed?: string } = {}): EventEnvelope {
  const version = options.version ?? 1;
  const data = SAMPLE_DATA[type][version];
  if (!data) throw new Error(`no sample data for ${type} v${version}`);
  const digest = createHash("sha256").update(`${type}/${version}/${options.seed ?? ""}`).digest("hex");
  return {
    id: `evt_${digest.slice(0, 20)}`,
    type,
    schemaVersion: version,
    source: type.startsWith("webhook.") ? "SYSTEM" : "WEB_APP",
    createdAt: "2026-04-22T10:30:00.000Z",
    organizationUuid: "550e8400-e29b-41d4-a716-446655440000",
    partnerUuid: type.startsWith("webhook.") ? null : "11111111-2222-4333-8444-555555555555",
    data: structuredClone(data),
  };
}
