import type { Knex } from "knex";
import type { Logger } from "pino";
import type { EventProducer } from "@novatrade/producer";
import { pauseEndpoint, type EndpointPauserDeps } from "./endpoint-pauser.js";
import type { ProjectorMetrics } from "./metrics.js";

interface PendingPause {
  endpoint_id: string;
  organization_uuid: string;
  pause_event_id: string;
  pause_reason: string;
  pause_trigger_at: Date;
  paused_consecutive_failures: number;
  paused_failing_since: Date;
  last_status_code: number | null;
  last_error: string | null;
}

export interface AutoPauseOutboxDeps extends EndpointPauserDeps {
  db: Knex;
  metaEvents: Pick<EventProducer, "publish">;
  metrics: ProjectorMetrics;
  logger: Logger;
  now: () => number;
}

/**
 * Carries out the pauses that projection decided (endpoint_health.pause_state = PENDING),
 * after their transaction committed: writes the PAUSED revision, then produces the episode's
 * `webhook.endpoint_auto_paused`, then marks the pause DONE. A crash in between repeats the
 * remaining steps with the same event id (receivers dedupe); the decision itself is never
 * taken twice, because it is stored with the health it came from.
 */
export class AutoPauseOutbox {
  readonly #deps: AutoPauseOutboxDeps;
  #running: Promise<void> | null = null;
  #again = false;

  constructor(deps: AutoPauseOutboxDeps) {
    this.#deps = deps;
  }

  /** Processes every pending pause; concurrent calls coalesce into one more pass. */
  process(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.#processOnce();
        } while (this.#again);
      } finally {
        this.#running = null;
      }
    })();
    return this.#running;
  }

  async #processOnce(): Promise<void> {
    const { db, logger } = this.#deps;
    const pending = (await db("endpoint_health").where({ pause_state: "PENDING" }).orderBy("endpoint_id")) as PendingPause[];
    for (const pause of pending) {
      const { result } = await pauseEndpoint(this.#deps, pause.endpoint_id, pause.pause_trigger_at.getTime(), this.#deps.now());
      const carriedOut = result === "paused" || result === "already_paused";
      // Already on the domain topic (this pause was carried out before a crash, or this is a
      // re-projection of the same log): not produced again.
      const published = carriedOut && (await db("events").where({ event_id: pause.pause_event_id }).first()) !== undefined;
      if (carriedOut && !published) {
        await this.#deps.metaEvents.publish({
          id: pause.pause_event_id,
          type: "webhook.endpoint_auto_paused",
          source: "SYSTEM",
          organizationUuid: pause.organization_uuid,
          partnerUuid: null,
          createdAt: pause.pause_trigger_at.toISOString(),
          data: {
            endpointId: pause.endpoint_id,
            reason: pause.pause_reason,
            consecutiveFailures: pause.paused_consecutive_failures,
            failingSince: pause.paused_failing_since.toISOString(),
            pausedAt: pause.pause_trigger_at.toISOString(),
            lastStatusCode: pause.last_status_code,
            lastError: pause.last_error,
          },
        });
        this.#deps.metrics.autoPauses.inc({ reason: pause.pause_reason });
      }
      // Only a still-pending pause is closed: a resume read meanwhile has already moved it on.
      await db("endpoint_health")
        .where({ endpoint_id: pause.endpoint_id, pause_state: "PENDING", pause_event_id: pause.pause_event_id })
        .update({ pause_state: carriedOut ? "DONE" : "SKIPPED" });
      logger.info({ endpointId: pause.endpoint_id, eventId: pause.pause_event_id, reason: pause.pause_reason, result }, "auto-pause carried out");
    }
  }
}
