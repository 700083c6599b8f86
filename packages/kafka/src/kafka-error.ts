import { NovatradeError } from "@novatrade/domain";

/**
 * Anything that went wrong talking to Kafka. Callers branch on `retriable` and `code`, never on
 * the client library's error classes, so the client behind the adapter can change.
 */
export class KafkaError extends NovatradeError {
  /**
   * The broker's or client's error name when there is one (`UNKNOWN_TOPIC_OR_PARTITION`,
   * `PRODUCER_FENCED`, `INVALID_PRODUCER_EPOCH`, `TOPIC_ALREADY_EXISTS`).
   */
  readonly code: string | undefined;

  constructor(message: string, options: { retriable?: boolean; cause?: unknown; code?: string } = {}) {
    super(message, { retriable: options.retriable, cause: options.cause });
    this.code = options.code;
  }
}

interface ClientErrorShape {
  name?: unknown;
  message?: unknown;
  retriable?: unknown;
  type?: unknown;
  cause?: unknown;
  errors?: unknown;
}

function asShape(error: unknown): ClientErrorShape | undefined {
  return typeof error === "object" && error !== null ? (error as ClientErrorShape) : undefined;
}

/** The innermost error of a `cause` chain (kafkajs wraps the real failure in "retries exceeded"). */
export function rootCause(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 10; depth += 1) {
    const next = asShape(current)?.cause;
    if (next === undefined || next === null) return current;
    current = next;
  }
  return current;
}

function codeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 10 && current !== undefined && current !== null; depth += 1) {
    const shape = asShape(current);
    if (typeof shape?.type === "string") return shape.type;
    // An aggregate (create topics, delete records) carries one error per item.
    if (Array.isArray(shape?.errors) && shape.errors.length > 0) {
      const inner = codeOf(shape.errors[0]);
      if (inner !== undefined) return inner;
    }
    current = shape?.cause;
  }
  return undefined;
}

/**
 * Whether doing the same thing again later can succeed. kafkajs reports "retries exceeded" as
 * non-retriable even when what kept failing (broker unreachable, leader moving) is transient, so
 * the flag of the root cause decides, the way kafkajs itself decides whether to restart a consumer.
 */
function isRetriable(error: unknown): boolean {
  const root = asShape(rootCause(error));
  if (typeof root?.retriable === "boolean") return root.retriable;
  const top = asShape(error);
  return top?.retriable === true;
}

/** Wraps whatever the client threw into a KafkaError that names the operation. */
export function toKafkaError(error: unknown, operation: string): KafkaError {
  if (error instanceof KafkaError) return error;
  const shape = asShape(error);
  const detail = typeof shape?.message === "string" ? shape.message : String(error);
  const code = codeOf(error);
  return new KafkaError(`${operation} failed: ${detail}`, {
    retriable: isRetriable(error),
    cause: error,
    ...(code === undefined ? {} : { code }),
  });
}

/** A handler's failure as kafkajs is given it (see `errorForClient`); the handler's own error is kept. */
export class HandlerFailure extends Error {
  override readonly name = "HandlerFailure";
  /** kafkajs retries the batch, then restarts the consumer from the last commit. */
  readonly retriable = true;

  constructor(readonly handlerError: unknown) {
    const shape = asShape(handlerError);
    super(typeof shape?.message === "string" ? shape.message : String(handlerError));
  }
}

/**
 * What to throw back to kafkajs from a failed handler. kafkajs decides from the error it gets
 * whether to rejoin the group (`type` UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS, …), retry, or
 * crash, and after a crash it restarts only if the innermost `cause` says `retriable: true`.
 * Our wrappers hide that `type`, and a cause chain ending in a plain Node error (a refused
 * connection under a SchemaRegistryError) reads as "never restart": the consumer then stayed
 * down for good after a registry outage or an eviction (seen in `make chaos`). So a kafkajs
 * protocol error anywhere in the chain goes back as it is (the innermost one, which carries the
 * `type`), and anything else as a retriable HandlerFailure without a cause.
 */
export function errorForClient(error: unknown): Error {
  let protocolError: Error | undefined;
  let current: unknown = error;
  for (let depth = 0; depth < 10 && current !== undefined && current !== null; depth += 1) {
    const shape = asShape(current);
    if (typeof shape?.name === "string" && shape.name.startsWith("KafkaJS") && typeof shape.type === "string") protocolError = current as Error;
    current = shape?.cause;
  }
  return protocolError ?? new HandlerFailure(error);
}
