import type { Database } from "@novatrade/database";
import { pauseAttribution, type ManualPause, type PausedBy } from "./pause-attribution.js";

const HOUR_MS = 3_600_000;

/** One hour of attempts of an endpoint. */
export interface HourlyAttempts {
  /** Start of the hour, epoch milliseconds. */
  hour: number;
  succeeded: number;
  failed: number;
}

/** An endpoint's health as the projector keeps it, with who paused it. */
export interface EndpointHealthView {
  consecutiveFailures: number;
  /** Epoch milliseconds, or null: the current failure streak began then. */
  failingSince: number | null;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
  pausedBy: PausedBy | null;
}

interface HealthRow {
  consecutive_failures: number;
  failing_since: Date | null;
  last_success_at: Date | null;
  last_failure_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  pause_state: string | null;
  pause_reason: string | null;
  pause_trigger_at: Date | null;
}

interface PauseRow {
  paused_by_kind: "operator" | "organization";
  paused_by: string;
  reason: string | null;
  paused_at: Date;
}

const ms = (date: Date | null) => date?.getTime() ?? null;

/**
 * Endpoint health (the projector's endpoint_health), the pauses made by hand (endpoint_pauses)
 * and attempts per hour. Callers check the endpoint belongs to the organization first.
 */
export class EndpointHealthStore {
  constructor(
    private readonly db: Database,
    private readonly now: () => number,
  ) {}

  async health(endpointId: string, status: string): Promise<EndpointHealthView> {
    const [row, pause] = await Promise.all([
      this.db("endpoint_health").where({ endpoint_id: endpointId }).first() as Promise<HealthRow | undefined>,
      this.db("endpoint_pauses").where({ endpoint_id: endpointId }).first() as Promise<PauseRow | undefined>,
    ]);
    const manual: ManualPause | null = pause ? { kind: pause.paused_by_kind, name: pause.paused_by, reason: pause.reason, at: pause.paused_at.getTime() } : null;
    return {
      consecutiveFailures: row?.consecutive_failures ?? 0,
      failingSince: ms(row?.failing_since ?? null),
      lastSuccessAt: ms(row?.last_success_at ?? null),
      lastFailureAt: ms(row?.last_failure_at ?? null),
      lastStatusCode: row?.last_status_code ?? null,
      lastError: row?.last_error ?? null,
      pausedBy: pauseAttribution(status, manual, row ? { state: row.pause_state, reason: row.pause_reason, triggeredAt: ms(row.pause_trigger_at) } : null),
    };
  }

  /** Records a pause by hand (one that changed the status). */
  async recordPause(endpointId: string, organizationUuid: string, pause: ManualPause): Promise<void> {
    await this.db("endpoint_pauses")
      .insert({ endpoint_id: endpointId, organization_uuid: organizationUuid.toLowerCase(), paused_by_kind: pause.kind, paused_by: pause.name, reason: pause.reason, paused_at: new Date(pause.at) })
      .onConflict("endpoint_id")
      .merge();
  }

  /** Forgets the pause by hand: the endpoint was resumed. */
  async clearPause(endpointId: string): Promise<void> {
    await this.db("endpoint_pauses").where({ endpoint_id: endpointId }).delete();
  }

  /** Succeeded and failed attempts per hour over the last `hours` hours, oldest first, every hour present. */
  async hourlyAttempts(endpointId: string, hours = 24): Promise<HourlyAttempts[]> {
    const end = Math.floor(this.now() / HOUR_MS) * HOUR_MS + HOUR_MS;
    const start = end - hours * HOUR_MS;
    const rows = (await this.db("attempts")
      .select(
        // Epoch hours rather than date_trunc, which follows the session's time zone.
        this.db.raw("(floor(extract(epoch FROM attempted_at) / 3600) * 3600000)::float8 AS hour"),
        this.db.raw("count(*) FILTER (WHERE result = 'SUCCEEDED')::int AS succeeded"),
        this.db.raw("count(*) FILTER (WHERE result IN ('FAILED_RETRYING', 'FAILED_TERMINAL'))::int AS failed"),
      )
      .where({ endpoint_id: endpointId })
      // The day column prunes partitions; attempted_at is exact.
      .where("day", ">=", new Date(start).toISOString().slice(0, 10))
      .where("attempted_at", ">=", new Date(start))
      .groupByRaw("1")) as Array<{ hour: number; succeeded: number; failed: number }>;
    const byHour = new Map(rows.map((row) => [row.hour, row]));
    return Array.from({ length: hours }, (_, index) => {
      const hour = start + index * HOUR_MS;
      return { hour, succeeded: byHour.get(hour)?.succeeded ?? 0, failed: byHour.get(hour)?.failed ?? 0 };
    });
  }
}
