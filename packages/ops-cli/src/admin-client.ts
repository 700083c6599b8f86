/** An answer of the admin API. */
export interface AdminAnswer {
  status: number;
  body: any;
}

/** The admin refused the request (4xx): the problem document says why, and which field. */
export class AdminRefusal extends Error {
  constructor(
    readonly status: number,
    readonly problem: { title?: string; detail?: string; field?: string },
  ) {
    super(`${status} ${problem.title ?? ""}: ${problem.detail ?? ""}`.trim());
    this.name = "AdminRefusal";
  }
}

/** The admin could not be reached or failed (5xx): trying again later may work. */
export class AdminUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AdminUnavailable";
  }
}

export interface AdminClientOptions {
  /** e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  apiKey: string;
  /** For operator keys on organization routes (X-Organization-Uuid). */
  organizationUuid?: string | undefined;
  fetch?: typeof fetch;
}

/** A thin client of the admin HTTP API: the CLI holds no endpoint or replay logic of its own. */
export class AdminClient {
  constructor(private readonly options: AdminClientOptions) {}

  /**
   * @throws AdminRefusal on a 4xx answer; AdminUnavailable when unreachable or on a 5xx.
   */
  async call(method: string, path: string, body?: unknown): Promise<AdminAnswer> {
    const doFetch = this.options.fetch ?? fetch;
    let response: Response;
    try {
      response = await doFetch(`${this.options.baseUrl.replace(/\/$/, "")}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.options.apiKey}`,
          ...(this.options.organizationUuid ? { "x-organization-uuid": this.options.organizationUuid } : {}),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new AdminUnavailable(`cannot reach the admin API at ${this.options.baseUrl}: ${(error as Error).message}`, { cause: error });
    }
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text === "" ? null : JSON.parse(text);
    } catch {
      parsed = { detail: text };
    }
    if (response.status >= 500) throw new AdminUnavailable(`the admin API failed: ${response.status} ${(parsed as { detail?: string } | null)?.detail ?? ""}`);
    if (response.status >= 400) throw new AdminRefusal(response.status, (parsed ?? {}) as AdminRefusal["problem"]);
    return { status: response.status, body: parsed };
  }
}
