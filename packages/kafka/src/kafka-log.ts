import kafkajs from "kafkajs";
import type { LogEntry, logCreator as LogCreator } from "kafkajs";
import type { Logger } from "pino";

const { logLevel } = kafkajs;

export type PinoLevel = "error" | "warn" | "info" | "debug";

/** The kafkajs level that lets through what the pino logger would write, and no more. */
export function clientLogLevelFor(logger: Pick<Logger, "levelVal">): number {
  const value = logger.levelVal;
  if (!Number.isFinite(value)) return logLevel.NOTHING; // pino's "silent"
  if (value <= 20) return logLevel.DEBUG;
  if (value <= 30) return logLevel.INFO;
  if (value <= 40) return logLevel.WARN;
  return logLevel.ERROR;
}

/**
 * The pino level for one kafkajs log line. Two kinds of kafkajs ERROR lines are lowered to debug
 * because they are not, on their own, errors an operator can act on:
 * - `[Connection] Response …`: every broker error response (coordinator still loading, topic
 *   already exists, concurrent transactions) is logged at ERROR by the connection, then retried
 *   or returned to the caller, who reports it with context if it matters;
 * - `Error when calling eachMessage/eachBatch`: the adapter logs handler failures itself, with
 *   the group, topic and offset, and counts them.
 * And one WARN line, about limiting an idempotent producer's retries, and the INFO lines of every
 * pause and resume of a partition (see below).
 */
export function pinoLevelFor(level: number, namespace: string, message: string): PinoLevel {
  if (level === logLevel.ERROR || level === logLevel.NOTHING) {
    if (namespace === "Connection" && message.startsWith("Response ")) return "debug";
    if (message.startsWith("Error when calling each")) return "debug";
    return "error";
  }
  if (level === logLevel.WARN) {
    // kafkajs warns whenever a retry policy is set on an idempotent producer, yet its own
    // default through Kafka#producer is the same 5 retries; a failed send is the caller's to
    // retry (at least once), so there is nothing to act on.
    if (message.startsWith("Limiting retries for the idempotent producer")) return "debug";
    return "warn";
  }
  if (level === logLevel.INFO) {
    // kafkajs logs every pause and resume at INFO, with the partitions: the sender pauses and
    // resumes partitions all the time (work gate, retries not due, full lanes), and these lines
    // were ~1% of its CPU and most of its log volume, with nothing for an operator in them.
    if (namespace === "ConsumerGroup" && (message.startsWith("Pausing fetching from") || message.startsWith("Resuming fetching from"))) return "debug";
    return "info";
  }
  return "debug";
}

/** Forwards kafkajs's own log lines into pino, fields intact, under `kafkaNamespace`. */
export function createLogCreator(logger: Logger): LogCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
      const text = String(message);
      logger[pinoLevelFor(level, namespace, text)]({ ...fields, kafkaNamespace: namespace }, text);
    };
}
