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
): Promise<void> {
  const stops: StopFunction[] = [];
  let stopping = false;
  const stopAll = async (reason: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, "stopping");
    for (const stop of [...stops].reverse()) {
      try {
        await stop();
      } catch (error) {
        logger.error({ err: error }, "error while stopping");
      }
    }
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
