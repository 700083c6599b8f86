import { attemptsByDelivery, type AttemptView, type Database } from "@novatrade/database";
import { decodeCursor, encodeCursor } from "./cursor.js";

export interface DeliveryFilter {
  organizationUuid: string;
  endpointId?: string | undefined;
  eventId?: string | undefined;
  eventType?: string | undefined;
  status?: string | undefined;
  /** First attempt at or after, epoch ms. */
  from?: number | undefined;
  /** First attempt before, epoch ms. */
  to?: number | undefined;
  cursor?: string | undefined;
  limit: number;
}

export interface AttemptItem {
  attempt: number;
  result: string;
  statusCode: number | null;
  errorClass: string | null;
  errorMessage: string | null;
  latencyMs: number | null;
  responseBody: string | null;
  attemptedAt: string;
}

export interface DeliveryItem {
  deliveryId: string;
  eventId: string;
  eventType: string;
  endpointId: string;
  status: string;
  attempts: number;
  firstAttemptedAt: string;
  lastAttemptedAt: string;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastErrorClass: string | null;
  replayId: string | null;
}

interface DeliveryRow {
  day: string;
  delivery_id: string;
  event_id: string;
  event_type: string;
  endpoint_id: string;
  status: string;
  attempts: number;
  first_attempted_at: Date;
  last_attempted_at: Date;
  next_attempt_at: Date | null;
  last_status_code: number | null;
  last_error_class: string | null;
  replay_id: string | null;
}

function deliveryItem(row: DeliveryRow): DeliveryItem {
  return {
    deliveryId: row.delivery_id,
    eventId: row.event_id,
    eventType: row.event_type,
    endpointId: row.endpoint_id,
    status: row.status,
    attempts: row.attempts,
    firstAttemptedAt: row.first_attempted_at.toISOString(),
    lastAttemptedAt: row.last_attempted_at.toISOString(),
    nextAttemptAt: row.next_attempt_at?.toISOString() ?? null,
    lastStatusCode: row.last_status_code,
    lastErrorClass: row.last_error_class,
    replayId: row.replay_id,
  };
}

function attemptItem(attempt: AttemptView): AttemptItem {
  return { ...attempt, attemptedAt: attempt.attemptedAt.toISOString() };
}

/** Reads the projector's history tables, always within one organization. */
export class HistoryStore {
  constructor(private readonly db: Database) {}

  /** Deliveries newest first (by first attempt), keyset-paginated. */
  async deliveries(filter: DeliveryFilter): Promise<{ items: DeliveryItem[]; nextCursor: string | null }> {
    const { rows, nextCursor } = await this.#page(filter);
    return { items: rows.map(deliveryItem), nextCursor };
  }

  /** A page of deliveries, each with its attempts (latency, kept response): what the portal lists. */
  async deliveriesWithAttempts(filter: DeliveryFilter): Promise<Array<DeliveryItem & { attemptList: AttemptItem[] }>> {
    const { rows } = await this.#page(filter);
    const attempts = await attemptsByDelivery(this.db, rows);
    return rows.map((row) => ({ ...deliveryItem(row), attemptList: (attempts.get(row.delivery_id) ?? []).map(attemptItem) }));
  }

  async #page(filter: DeliveryFilter): Promise<{ rows: DeliveryRow[]; nextCursor: string | null }> {
    const query = this.db("deliveries")
      .where({ organization_uuid: filter.organizationUuid.toLowerCase() })
      .orderBy([{ column: "first_attempted_at", order: "desc" }, { column: "delivery_id", order: "desc" }])
      .limit(filter.limit + 1);
    if (filter.endpointId !== undefined) query.where({ endpoint_id: filter.endpointId });
    if (filter.eventId !== undefined) query.where({ event_id: filter.eventId });
    if (filter.eventType !== undefined) query.where({ event_type: filter.eventType });
    if (filter.status !== undefined) query.where({ status: filter.status });
    // The day column prunes partitions; first_attempted_at is exact.
    if (filter.from !== undefined) query.where("first_attempted_at", ">=", new Date(filter.from)).where("day", ">=", dayOf(filter.from));
    if (filter.to !== undefined) query.where("first_attempted_at", "<", new Date(filter.to)).where("day", "<=", dayOf(filter.to));
    if (filter.cursor !== undefined) {
      const [at, id] = decodeCursor(filter.cursor, 2);
      query.whereRaw("(first_attempted_at, delivery_id) < (?, ?)", [new Date(String(at)), String(id)]);
    }
    const rows = (await query) as DeliveryRow[];
    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    return {
      rows: page,
      nextCursor: rows.length > filter.limit && last ? encodeCursor([last.first_attempted_at.toISOString(), last.delivery_id]) : null,
    };
  }

  /** One delivery of the organization with all its attempts; null when there is none. */
  async delivery(organizationUuid: string, deliveryId: string): Promise<(DeliveryItem & { attemptList: AttemptItem[]; organizationUuid: string }) | null> {
    const row = (await this.db("deliveries")
      .where({ delivery_id: deliveryId, organization_uuid: organizationUuid.toLowerCase() })
      .orderBy("day")
      .first()) as DeliveryRow | undefined;
    if (!row) return null;
    const attempts = (await attemptsByDelivery(this.db, [row])).get(row.delivery_id) ?? [];
    return {
      ...deliveryItem(row),
      organizationUuid: organizationUuid.toLowerCase(),
      attemptList: attempts.map(attemptItem),
    };
  }

  /** Delivery ids of an endpoint that ended FAILED_TERMINAL with a first attempt in [from, to). */
  async failedDeliveryIds(endpointId: string, from: number, to: number): Promise<Set<string>> {
    const rows = (await this.db("deliveries")
      .select("delivery_id")
      .where({ endpoint_id: endpointId, status: "FAILED_TERMINAL" })
      .where("day", ">=", dayOf(from - DAY_MS))
      .where("day", "<=", dayOf(to + DAY_MS))) as Array<{ delivery_id: string }>;
    return new Set(rows.map((row) => row.delivery_id));
  }

  /** The stored envelope of one of the organization's events (as produced). */
  async eventEnvelope(organizationUuid: string, eventId: string): Promise<Record<string, unknown> | null> {
    const row = (await this.db("events").select("envelope").where({ event_id: eventId, organization_uuid: organizationUuid.toLowerCase() }).first()) as
      | { envelope: Record<string, unknown> }
      | undefined;
    return row?.envelope ?? null;
  }
}

const DAY_MS = 86_400_000;

function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
