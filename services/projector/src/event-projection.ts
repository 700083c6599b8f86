import type { Knex } from "knex";
import {
  applyComplianceEvent,
  isWithinRetention,
  utcDay,
  type ComplianceInput,
  type ComplianceRow,
  type EventEnvelope,
  type RetentionPolicy,
} from "@novatrade/domain";

export interface EventProjectionOptions {
  retention: RetentionPolicy;
  ensureDays(days: Iterable<string>): Promise<void>;
}

export interface EventBatchResult {
  projected: number;
  expired: number;
  /** Compliance rows changed (each moved its organization's version by one). */
  complianceChanges: number;
}

/** The compliance part of an event, or null for other types. */
export function complianceInput(envelope: EventEnvelope): ComplianceInput | null {
  const data = envelope.data as Record<string, unknown>;
  const base = {
    eventId: envelope.id,
    organizationUuid: envelope.organizationUuid.toLowerCase(),
    orderId: String(data.orderId),
    orderReference: typeof data.orderReference === "string" ? data.orderReference : null,
  };
  if (envelope.type === "compliance.status_changed") {
    return { kind: "status", ...base, status: String(data.toStatus), at: Date.parse(String(data.changedAt)) };
  }
  if (envelope.type === "compliance.decision_made") {
    return { kind: "decision", ...base, verdict: String(data.verdict), at: Date.parse(String(data.decidedAt)) };
  }
  return null;
}

interface ComplianceDbRow {
  organization_uuid: string;
  order_id: string;
  order_reference: string | null;
  status: string | null;
  status_event_id: string | null;
  status_changed_at: Date | null;
  verdict: string | null;
  decision_event_id: string | null;
  decided_at: Date | null;
  as_of_event_id: string;
  as_of_at: Date;
}

const ms = (date: Date | null) => (date === null ? null : date.getTime());
const date = (value: number | null) => (value === null ? null : new Date(value));

function fromDb(row: ComplianceDbRow): ComplianceRow {
  return {
    organizationUuid: row.organization_uuid,
    orderId: row.order_id,
    orderReference: row.order_reference,
    status: row.status,
    statusEventId: row.status_event_id,
    statusChangedAt: ms(row.status_changed_at),
    verdict: row.verdict,
    decisionEventId: row.decision_event_id,
    decidedAt: ms(row.decided_at),
    asOfEventId: row.as_of_event_id,
    asOfAt: row.as_of_at.getTime(),
  };
}

/**
 * Projects domain events: the envelope of each into `events` (keyed by event id, a re-read is a
 * no-op), and compliance events into the rollup. The organization's version moves by one per
 * row change, so the same events give the same versions however they were batched.
 */
export async function projectEvents(db: Knex, envelopes: EventEnvelope[], options: EventProjectionOptions, now: number): Promise<EventBatchResult> {
  const kept = envelopes.filter((e) => isWithinRetention(utcDay(Date.parse(e.createdAt)), now, options.retention));
  const result: EventBatchResult = { projected: kept.length, expired: envelopes.length - kept.length, complianceChanges: 0 };
  await options.ensureDays(new Set(kept.map((e) => utcDay(Date.parse(e.createdAt)))));
  await db.transaction(async (trx) => {
    if (kept.length > 0) {
      await trx.raw(
        `INSERT INTO events (day, event_id, type, schema_version, source, organization_uuid, partner_uuid, created_at, envelope)
         SELECT * FROM jsonb_to_recordset(?::jsonb) AS r(day date, event_id text, type text, schema_version int, source text,
           organization_uuid text, partner_uuid text, created_at timestamptz, envelope jsonb)
         ON CONFLICT (day, event_id) DO NOTHING`,
        [
          JSON.stringify(
            kept.map((e) => ({
              day: utcDay(Date.parse(e.createdAt)),
              event_id: e.id,
              type: e.type,
              schema_version: e.schemaVersion,
              source: e.source,
              organization_uuid: e.organizationUuid.toLowerCase(),
              partner_uuid: e.partnerUuid ?? null,
              created_at: e.createdAt,
              envelope: e,
            })),
          ),
        ],
      );
    }
    // The rollup is the current state, not history: it keeps every order, whatever its age.
    const inputs = envelopes.map(complianceInput).filter((input): input is ComplianceInput => input !== null);
    result.complianceChanges = await foldCompliance(trx, inputs);
  });
  return result;
}

async function foldCompliance(trx: Knex.Transaction, inputs: ComplianceInput[]): Promise<number> {
  if (inputs.length === 0) return 0;
  const organizations = [...new Set(inputs.map((input) => input.organizationUuid))].sort();
  // The version rows are the per-organization lock: two instances never interleave one org.
  await trx("compliance_versions")
    .insert(organizations.map((organization_uuid) => ({ organization_uuid, version: 0 })))
    .onConflict("organization_uuid")
    .ignore();
  const versions = (await trx("compliance_versions").whereIn("organization_uuid", organizations).orderBy("organization_uuid").forUpdate()) as {
    organization_uuid: string;
    version: number;
  }[];
  const version = new Map(versions.map((row) => [row.organization_uuid, row.version]));
  const existing = (await trx("compliance_rollup").whereIn(
    ["organization_uuid", "order_id"],
    inputs.map((input) => [input.organizationUuid, input.orderId]),
  )) as ComplianceDbRow[];
  const rows = new Map(existing.map((row) => [`${row.organization_uuid}\u0000${row.order_id}`, fromDb(row)]));
  const changed = new Map<string, ComplianceRow & { version: number }>();
  let changes = 0;
  for (const input of inputs) {
    const key = `${input.organizationUuid}\u0000${input.orderId}`;
    const next = applyComplianceEvent(rows.get(key) ?? null, input);
    if (!next) continue;
    const orgVersion = (version.get(input.organizationUuid) ?? 0) + 1;
    version.set(input.organizationUuid, orgVersion);
    rows.set(key, next);
    changed.set(key, { ...next, version: orgVersion });
    changes++;
  }
  if (changed.size === 0) return 0;
  await trx("compliance_rollup")
    .insert(
      [...changed.values()].map((row) => ({
        organization_uuid: row.organizationUuid,
        order_id: row.orderId,
        order_reference: row.orderReference,
        status: row.status,
        status_event_id: row.statusEventId,
        status_changed_at: date(row.statusChangedAt),
        verdict: row.verdict,
        decision_event_id: row.decisionEventId,
        decided_at: date(row.decidedAt),
        as_of_event_id: row.asOfEventId,
        as_of_at: new Date(row.asOfAt),
        version: row.version,
      })),
    )
    .onConflict(["organization_uuid", "order_id"])
    .merge();
  for (const [organization, value] of version) {
    await trx("compliance_versions").where({ organization_uuid: organization }).update({ version: value });
  }
  return changes;
}
