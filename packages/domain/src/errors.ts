/**
 * The project's one tree of typed errors. Every error says whether trying the same thing
 * again can succeed (`retriable`) and keeps what caused it (`cause`), the way kafkajs's
 * KafkaJSError does, so callers branch on types and flags, never on message text.
 */
export class NovatradeError extends Error {
  readonly retriable: boolean;

  constructor(message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
  }
}

/** Input that can never become valid by retrying: an event, a request, a config value. */
export class ValidationError extends NovatradeError {
  /** Where the problem is, as a dotted path (`data.verdict`, `organizationUuid`). */
  readonly field: string;

  constructor(field: string, message: string, options: { cause?: unknown } = {}) {
    super(`${field}: ${message}`, { retriable: false, cause: options.cause });
    this.field = field;
  }
}

/** Bytes that are not a decodable event: bad magic byte, unknown schema id, corrupt Avro. */
export class DecodeError extends NovatradeError {
  constructor(message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options);
  }
}

/** No accepted schema version can be produced from what the event was written with. */
export class SchemaVersionUnavailableError extends NovatradeError {
  constructor(
    readonly eventType: string,
    readonly writerVersion: number,
    readonly acceptedVersions: readonly number[],
    options: { cause?: unknown } = {},
  ) {
    super(
      `${eventType} v${writerVersion} cannot be rendered in any accepted version [${acceptedVersions.join(", ")}]`,
      { retriable: false, cause: options.cause },
    );
  }
}

/** A configuration value is missing or wrong; names the environment variable. */
export class ConfigError extends NovatradeError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { retriable: false, cause: options.cause });
  }
}
