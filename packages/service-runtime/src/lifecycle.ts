import type { Logger } from "pino";

export type StopFunction = () => Promise<void> | void;

/**
 * Runs a service's start function and stops what it started, in reverse order, on SIGINT or
 * SIGTERM. Anything that can be killed at any time must not lose work, so stopping is about
 * leaving cleanly (commit, leave the group), not about correctness.
 */
export async function runService(
  logger: Logger,
  start: (onStop: (stop: StopFunction) => void) => Promise<void>,
  processLike: Pick<NodeJS.Process, "once" | "exit"> = process,
  /** Longest a clean stop may take, in milliseconds; then the process exits anyway. */
  stopTimeoutMs = 30_000,
): Promise<void> {
  const stops: StopFunction[] = [];
  let stopping = false;
  const stopAll = async (reason: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, "stopping");
    // A broker that is gone can keep a consumer's leave-group waiting for minutes. Exiting
    // without it is safe: nothing uncommitted is lost, it is read again (at-least-once).
    const deadline = setTimeout(() => {
      logger.warn({ stopTimeoutMs }, "clean stop took too long; exiting without it");
      processLike.exit(exitCode === 0 ? 1 : exitCode);
    }, stopTimeoutMs);
    deadline.unref();
    for (const stop of [...stops].reverse()) {
      try {
        await stop();
      } catch (error) {
        logger.error({ err: error }, "error while stopping");
      }
    }
    clearTimeout(deadline);
    logger.info("stopped");
    processLike.exit(exitCode);
  };
  processLike.once("SIGINT", () => void stopAll("SIGINT", 0));
  processLike.once("SIGTERM", () => void stopAll("SIGTERM", 0));
  try {
    // Each component registers its stop as soon as it has started, so a start that fails
    // half-way still stops what did start.
    await start((stop) => stops.push(stop));
    logger.info("started");
  } catch (error) {
    logger.fatal({ err: error }, "failed to start");
    await stopAll("start failed", 1);
  }
}
