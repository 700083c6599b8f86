import { SchemaRegistryError } from "./codec-errors.js";

export type CompatibilityLevel =
  | "NONE"
  | "BACKWARD"
  | "BACKWARD_TRANSITIVE"
  | "FORWARD"
  | "FORWARD_TRANSITIVE"
  | "FULL"
  | "FULL_TRANSITIVE";

/** A schema as the registry holds it under a subject. */
export interface RegisteredVersion {
  subject: string;
  /** The registry's version number under the subject (not necessarily the catalogue's). */
  version: number;
  /** Registry id, the one in the wire-format header. */
  id: number;
}

/**
 * The administrative calls of the Confluent-compatible REST API that the
 * @kafkajs/confluent-schema-registry client does not expose: setting a subject's
 * compatibility and looking up a schema's version. Only registration tooling uses it;
 * services read the registry through the client.
 */
export interface SchemaRegistryAdmin {
  /** Base URL, e.g. http://127.0.0.1:18081/apis/ccompat/v7. */
  readonly url: string;
  /** PUT /config/{subject}. Works before the subject has a version, on Confluent and Apicurio alike. */
  setCompatibility(subject: string, level: CompatibilityLevel): Promise<void>;
  /** POST /subjects/{subject}: the version holding exactly this schema text, if any. */
  findVersion(subject: string, schemaText: string): Promise<RegisteredVersion | undefined>;
  /**
   * POST /subjects/{subject}/versions. Returns the existing id when the text is already
   * registered under the subject.
   * @throws SchemaRegistryError with the registry's status, error_code and message.
   */
  register(subject: string, schemaText: string): Promise<{ id: number }>;
}

export interface SchemaRegistryAdminOptions {
  url: string;
  /** Per request, in milliseconds. */
  timeoutMs?: number;
  /** Injected for tests; the global fetch otherwise. */
  fetch?: typeof fetch;
}

const CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

export function createSchemaRegistryAdmin(options: SchemaRegistryAdminOptions): SchemaRegistryAdmin {
  const url = options.url.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 10_000;
  const doFetch = options.fetch ?? fetch;

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    let response: Response;
    try {
      response = await doFetch(`${url}${path}`, {
        method,
        headers: { "content-type": CONTENT_TYPE, accept: CONTENT_TYPE },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new SchemaRegistryError(`cannot reach the schema registry at ${url}: ${(error as Error).message}`, {
        retriable: true,
        cause: error,
      });
    }
    const text = await response.text();
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = { message: text };
    }
    return { status: response.status, json };
  }

  function failure(what: string, status: number, json: unknown): SchemaRegistryError {
    const { message, error_code: errorCode } = (json ?? {}) as { message?: unknown; error_code?: unknown };
    const registryMessage = typeof message === "string" ? message : JSON.stringify(json);
    return new SchemaRegistryError(`${what}: HTTP ${status}: ${registryMessage}`, {
      // 5xx and 429 may pass; a 4xx refusal will not.
      retriable: status >= 500 || status === 429,
      status,
      ...(typeof errorCode === "number" ? { errorCode } : {}),
      registryMessage,
    });
  }

  const subjectPath = (subject: string) => encodeURIComponent(subject);

  return {
    url,
    async setCompatibility(subject, level) {
      const { status, json } = await call("PUT", `/config/${subjectPath(subject)}`, { compatibility: level });
      if (status !== 200) throw failure(`setting compatibility of ${subject} to ${level}`, status, json);
    },
    async findVersion(subject, schemaText) {
      const { status, json } = await call("POST", `/subjects/${subjectPath(subject)}`, { schema: schemaText });
      // 40401: no such subject; 40403: the subject does not hold this schema.
      if (status === 404) return undefined;
      if (status !== 200) throw failure(`looking up a schema under ${subject}`, status, json);
      const found = json as { version?: unknown; id?: unknown };
      if (typeof found.version !== "number" || typeof found.id !== "number") {
        throw failure(`looking up a schema under ${subject}: unexpected answer`, status, json);
      }
      return { subject, version: found.version, id: found.id };
    },
    async register(subject, schemaText) {
      const { status, json } = await call("POST", `/subjects/${subjectPath(subject)}/versions`, { schema: schemaText });
      if (status !== 200) throw failure(`registering a schema under ${subject}`, status, json);
      const registered = json as { id?: unknown };
      if (typeof registered.id !== "number") throw failure(`registering under ${subject}: unexpected answer`, status, json);
      return { id: registered.id };
    },
  };
}
