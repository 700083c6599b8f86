import { pino, type DestinationStream, type Logger, type LoggerOptions } from "pino";

export type { Logger } from "pino";

/**
 * Paths that may hold signing secrets or credentials. pino replaces them before a line is
 * written, so a secret that slips into a log call still never reaches the log.
 */
export const REDACTED_PATHS = [
  "secret",
  "secrets",
  "*.secret",
  "*.secrets",
  "*.secrets[*]",
  "*.plaintextSecret",
  "*.signingSecret",
  "*.ciphertext",
  "password",
  "*.password",
  "headers.authorization",
  "*.headers.authorization",
  "encryptionKey",
  "*.encryptionKey",
  "databaseUrl",
  "*.databaseUrl",
];

export interface LoggerConfig {
  /** The service or tool name, in every line as `service`. */
  service: string;
  level?: string;
  /** Where lines go; standard output when omitted (tests pass a stream to read them back). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(config: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level: config.level ?? "info",
    base: { service: config.service },
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return config.destination ? pino(options, config.destination as DestinationStream) : pino(options);
}
