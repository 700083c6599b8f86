import { NovatradeError } from "@novatrade/domain";

/** A file under schemas/ is unreadable, not Avro, or breaks a catalogue rule. */
export class SchemaCatalogueError extends NovatradeError {
  constructor(
    /** The offending file or directory. */
    readonly path: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(`${path}: ${message}`, { retriable: false, cause: options.cause });
  }
}

/**
 * The registry refused a schema (incompatible with the subject's earlier versions, or
 * invalid). Retrying cannot help: the schema file has to change.
 */
export class SchemaRegistrationError extends NovatradeError {
  constructor(
    readonly subject: string,
    /** Catalogue version (`v2.avsc` is 2); null for internal schemas, which have one file. */
    readonly version: number | null,
    /** HTTP status of the refusal, e.g. 409 for incompatible, 422 for invalid. */
    readonly status: number,
    /** The registry's `error_code`, when it sent one. */
    readonly errorCode: number | undefined,
    /** The registry's own explanation, verbatim. */
    readonly registryMessage: string,
  ) {
    super(
      `schema registry refused ${subject}${version === null ? "" : ` v${version}`} ` +
        `(HTTP ${status}${errorCode === undefined ? "" : `, error_code ${errorCode}`}): ${registryMessage}`,
      { retriable: false },
    );
  }
}

/**
 * The registry could not be used: unreachable, an unexpected answer, or a schema that the
 * codec needs is not registered. `retriable` says whether waiting can help.
 */
export class SchemaRegistryError extends NovatradeError {
  /** HTTP status, when the registry answered. */
  readonly status: number | undefined;
  /** The registry's `error_code`, when it sent one. */
  readonly errorCode: number | undefined;
  /** The registry's own `message`, when it sent one. */
  readonly registryMessage: string | undefined;

  constructor(
    message: string,
    options: { retriable: boolean; status?: number; errorCode?: number; registryMessage?: string; cause?: unknown },
  ) {
    super(message, { retriable: options.retriable, cause: options.cause });
    this.status = options.status;
    this.errorCode = options.errorCode;
    this.registryMessage = options.registryMessage;
  }
}
