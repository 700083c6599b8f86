import type { Database } from "./database.js";

/** One attempt of a delivery, as the history shows it. */
export interface AttemptView {
  attempt: number;
  result: string;
  statusCode: number | null;
  errorClass: string | null;
  errorMessage: string | null;
  latencyMs: number | null;
  responseBody: string | null;
  attemptedAt: Date;
}

/** One delivery with its attempts, newest attempt last. */
export interface DeliveryView {
  deliveryId: string;
  eventId: string;
  eventType: string;
  endpointId: string;
  status: string;
  attempts: number;
  firstAttemptedAt: Date;
  lastAttemptedAt: Date;
  nextAttemptAt: Date | null;
  lastStatusCode: number | null;
  replayId: string | null;
  attemptList: AttemptView[];
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
  replay_id: string | null;
}

interface AttemptRow {
  delivery_id: string;
  attempt: number;
  result: string;
  status_code: number | null;
  error_class: string | null;
  error_message: string | null;
  latency_ms: number | null;
  response_body: string | null;
  attempted_at: Date;
}

const DELIVERY_COLUMNS = [
  "day", "delivery_id", "event_id", "event_type", "endpoint_id", "status", "attempts",
  "first_attempted_at", "last_attempted_at", "next_attempt_at", "last_status_code", "replay_id",
];

/**
 * The attempts of the given deliveries, by delivery id, oldest first. Attempts share their
 * delivery's day, so only those days' partitions are read.
 */
export async function attemptsByDelivery(db: Database, deliveries: ReadonlyArray<{ day: string; delivery_id: string }>): Promise<Map<string, AttemptView[]>> {
  const byDelivery = new Map<string, AttemptView[]>();
  if (deliveries.length === 0) return byDelivery;
  // The days as literals let the planner prune to their partitions before joining.
  const attempts = (await db("attempts")
    .select("delivery_id", "attempt", "result", "status_code", "error_class", "error_message", "latency_ms", "response_body", "attempted_at")
    .whereIn("day", [...new Set(deliveries.map((d) => d.day))])
    .whereIn("delivery_id", deliveries.map((d) => d.delivery_id))
    .orderBy(["delivery_id", "attempt"])) as AttemptRow[];
  for (const row of attempts) {
    const list = byDelivery.get(row.delivery_id) ?? [];
    list.push({
      attempt: row.attempt,
      result: row.result,
      statusCode: row.status_code,
      errorClass: row.error_class,
      errorMessage: row.error_message,
      latencyMs: row.latency_ms,
      responseBody: row.response_body,
      attemptedAt: row.attempted_at,
    });
    byDelivery.set(row.delivery_id, list);
  }
  return byDelivery;
}

async function withAttempts(db: Database, deliveries: DeliveryRow[]): Promise<DeliveryView[]> {
  const byDelivery = await attemptsByDelivery(db, deliveries);
  return deliveries.map((row) => ({
    deliveryId: row.delivery_id,
    eventId: row.event_id,
    eventType: row.event_type,
    endpointId: row.endpoint_id,
    status: row.status,
    attempts: row.attempts,
    firstAttemptedAt: row.first_attempted_at,
    lastAttemptedAt: row.last_attempted_at,
    nextAttemptAt: row.next_attempt_at,
    lastStatusCode: row.last_status_code,
    replayId: row.replay_id,
    attemptList: byDelivery.get(row.delivery_id) ?? [],
  }));
}

/** One endpoint's most recent deliveries (by first attempt), newest first, with their attempts. */
export async function endpointHistory(db: Database, endpointId: string, limit = 50): Promise<DeliveryView[]> {
  const rows = await db("deliveries").select(DELIVERY_COLUMNS).where({ endpoint_id: endpointId }).orderBy("first_attempted_at", "desc").limit(limit);
  return withAttempts(db, rows as DeliveryRow[]);
}

/** Every delivery of one event, across endpoints, with their attempts. */
export async function eventHistory(db: Database, eventId: string): Promise<DeliveryView[]> {
  const rows = await db("deliveries").select(DELIVERY_COLUMNS).where({ event_id: eventId }).orderBy("endpoint_id");
  return withAttempts(db, rows as DeliveryRow[]);
}
