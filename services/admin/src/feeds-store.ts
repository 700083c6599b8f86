import type { Database } from "@novatrade/database";
import { decodeCursor, encodeCursor } from "./cursor.js";

const DAY_MS = 86_400_000;
/** The events feed covers this many days, like the history. */
export const EVENTS_FEED_DAYS = 30;

export interface RollupItem {
  orderId: string;
  orderReference: string | null;
  status: string | null;
  statusEventId: string | null;
  statusChangedAt: string | null;
  verdict: string | null;
  decisionEventId: string | null;
  decidedAt: string | null;
  asOfEventId: string;
  asOfAt: string;
}

/** Stripe's "list events" item: the envelope as delivered, plus `object`. */
export interface EventItem {
  object: "event";
  id: string;
  type: string;
  created: number;
  schemaVersion: number;
  source: string;
  envelope: Record<string, unknown>;
}

/** The reconciliation feeds over the projector's tables, always within one organization. */
export class FeedsStore {
  constructor(
    private readonly db: Database,
    private readonly now: () => number,
  ) {}

  /** The latest compliance state per order, by order id. */
  async rollup(organizationUuid: string, limit: number, cursor?: string): Promise<{ items: RollupItem[]; nextCursor: string | null }> {
    const query = this.db("compliance_rollup").where({ organization_uuid: organizationUuid.toLowerCase() }).orderBy("order_id").limit(limit + 1);
    if (cursor !== undefined) query.where("order_id", ">", String(decodeCursor(cursor, 1)[0]));
    const rows = (await query) as Array<Record<string, string | Date | null>>;
    const page = rows.slice(0, limit);
    const iso = (value: unknown) => (value instanceof Date ? value.toISOString() : null);
    return {
      items: page.map((row) => ({
        orderId: row.order_id as string,
        orderReference: row.order_reference as string | null,
        status: row.status as string | null,
        statusEventId: row.status_event_id as string | null,
        statusChangedAt: iso(row.status_changed_at),
        verdict: row.verdict as string | null,
        decisionEventId: row.decision_event_id as string | null,
        decidedAt: iso(row.decided_at),
        asOfEventId: row.as_of_event_id as string,
        asOfAt: iso(row.as_of_at)!,
      })),
      nextCursor: rows.length > limit ? encodeCursor([page[page.length - 1]!.order_id as string]) : null,
    };
  }

  /** The organization's events of the last 30 days, newest first. */
  async events(organizationUuid: string, limit: number, filter: { cursor?: string | undefined; type?: string | undefined }): Promise<{ items: EventItem[]; nextCursor: string | null }> {
    const since = this.now() - EVENTS_FEED_DAYS * DAY_MS;
    const query = this.db("events")
      .select("event_id", "type", "schema_version", "source", "created_at", "envelope")
      .where({ organization_uuid: organizationUuid.toLowerCase() })
      .where("created_at", ">=", new Date(since))
      .where("day", ">=", new Date(since - DAY_MS).toISOString().slice(0, 10))
      .orderBy([{ column: "created_at", order: "desc" }, { column: "event_id", order: "desc" }])
      .limit(limit + 1);
    if (filter.type !== undefined) query.where({ type: filter.type });
    if (filter.cursor !== undefined) {
      const [at, id] = decodeCursor(filter.cursor, 2);
      query.whereRaw("(created_at, event_id) < (?, ?)", [new Date(String(at)), String(id)]);
    }
    const rows = (await query) as Array<{ event_id: string; type: string; schema_version: number; source: string; created_at: Date; envelope: Record<string, unknown> }>;
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((row) => ({
        object: "event",
        id: row.event_id,
        type: row.type,
        created: Math.floor(row.created_at.getTime() / 1000),
        schemaVersion: row.schema_version,
        source: row.source,
        envelope: row.envelope,
      })),
      nextCursor: rows.length > limit && last ? encodeCursor([last.created_at.toISOString(), last.event_id]) : null,
    };
  }
}
