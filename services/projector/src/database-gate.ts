import type { Logger } from "pino";
import { isConnectionError } from "@novatrade/database";
import type { ProjectorMetrics } from "./metrics.js";

export interface DatabaseGateOptions {
  /** First wait after a failure, in milliseconds; doubles up to `maxDelayMs`. */
  minDelayMs: number;
  /** Longest wait, in milliseconds. */
  maxDelayMs: number;
  metrics: ProjectorMetrics;
  logger: Logger;
  /** Waits `ms` milliseconds (injected so the back-off can be driven by hand in unit tests). */
  sleep?: (ms: number) => Promise<void>;
}

/** The next back-off delay: doubled, capped. */
export function nextDelay(previousMs: number, options: Pick<DatabaseGateOptions, "minDelayMs" | "maxDelayMs">): number {
  return Math.min(options.maxDelayMs, previousMs <= 0 ? options.minDelayMs : previousMs * 2);
}

/**
 * Runs database work, retrying it with back-off while PostgreSQL is unreachable, and tracks
 * whether the database is usable (the projector's readiness). A failure that is not about the
 * connection (a bug, a constraint) is not retried here: it is thrown to the caller.
 */
export class DatabaseGate {
  readonly #options: DatabaseGateOptions;
  #available = true;

  constructor(options: DatabaseGateOptions) {
    this.#options = options;
    options.metrics.databaseUp.set(1);
  }

  /** False from the first connection failure until an operation succeeds again. */
  isAvailable(): boolean {
    return this.#available;
  }

  /**
   * @param keepGoing asked before each retry (e.g. heartbeat the consumer group, stop when the
   * consumer is stopping); throwing from it abandons the work.
   */
  async run<T>(what: string, work: () => Promise<T>, keepGoing: () => Promise<void> = async () => undefined): Promise<T> {
    const sleep = this.#options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    let delay = 0;
    for (;;) {
      try {
        const result = await work();
        if (!this.#available) this.#options.logger.info({ what }, "database reachable again");
        this.#setAvailable(true);
        return result;
      } catch (error) {
        if (!isConnectionError(error)) {
          this.#options.metrics.databaseErrors.inc({ kind: "other" });
          throw error;
        }
        this.#options.metrics.databaseErrors.inc({ kind: "unavailable" });
        delay = nextDelay(delay, this.#options);
        if (this.#available) this.#options.logger.error({ err: error, what, retryInMs: delay }, "database unreachable; not ready, retrying with back-off");
        this.#setAvailable(false);
        await sleep(delay);
        await keepGoing();
      }
    }
  }

  #setAvailable(available: boolean): void {
    this.#available = available;
    this.#options.metrics.databaseUp.set(available ? 1 : 0);
  }
}
