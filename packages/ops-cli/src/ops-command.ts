import { Command, CommanderError, InvalidArgumentError } from "commander";
import { AdminClient, AdminRefusal, AdminUnavailable } from "./admin-client.js";
import { followReplay, type JobStatus } from "./replay-progress.js";

export const EXIT_OK = 0;
/** Something failed that was not the input: the admin unreachable or failing, a replay job failed. */
export const EXIT_FAILURE = 1;
/** The input was refused (the field is named); nothing changed. */
export const EXIT_INVALID_INPUT = 2;

export interface OpsContext {
  env: Record<string, string | undefined>;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Where the replay progress bar is drawn. */
  progressStream: NodeJS.WritableStream;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

/** A request to the admin API, built from the command line. */
interface Step {
  method: string;
  path: string;
  body?: unknown;
  /** Follow the replay job in the answer with a progress bar. */
  follow?: boolean;
  /** The organization (--org) goes in the body as organizationUuid rather than in a header. */
  organizationInBody?: boolean;
}

function list(value: string): string[] {
  return value.split(",").map((item) => item.trim()).filter((item) => item.length > 0);
}

function integer(value: string): number {
  if (!/^-?[0-9]{1,9}$/.test(value)) throw new InvalidArgumentError("must be an integer.");
  return Number(value);
}

function instant(value: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError("must be an ISO 8601 instant, e.g. 2026-12-01T06:00:00Z.");
  return new Date(ms).toISOString();
}

function query(options: Record<string, string | number | undefined>): string {
  const entries = Object.entries(options).filter(([, value]) => value !== undefined) as Array<[string, string | number]>;
  return entries.length === 0 ? "" : `?${new URLSearchParams(entries.map(([key, value]): [string, string] => [key, String(value)])).toString()}`;
}

/** The command tree; each action records the API request it stands for. */
function program(output: Pick<OpsContext, "stdout" | "stderr">, set: (step: Step) => void): Command {
  const root = new Command("novatrade-ops")
    .description("Operate Novatrade Webhooks through the admin API.")
    .exitOverride()
    .configureOutput({ writeOut: output.stdout, writeErr: output.stderr })
    .option("--admin-url <url>", "admin API base URL (NOVATRADE_ADMIN_URL, default http://127.0.0.1:8080)")
    .option("--org <uuid>", "with an operator key: the organization to act for (NOVATRADE_ORGANIZATION)")
    .option("--poll-ms <ms>", "how often a replay's progress is polled, in milliseconds", integer, 500)
    .addHelpText("after", "\nThe API key comes from NOVATRADE_API_KEY. Prints JSON on stdout.\nExit codes: 0 ok, 2 bad input (the field is named; nothing changed), 1 other failure.");

  const endpoints = root.command("endpoints").description("Endpoints of the organization");
  endpoints.command("list").action(() => set({ method: "GET", path: "/v1/endpoints" }));
  endpoints.command("get").argument("<endpointId>").action((id: string) => set({ method: "GET", path: `/v1/endpoints/${encodeURIComponent(id)}` }));
  const fields = (command: Command, required: boolean) =>
    command
      .option("--description <text>", "free text")
      .option("--partners <list>", "comma-separated partner UUIDs (default: all)", list)
      .option("--versions <list>", "comma-separated schema versions the endpoint reads", (value) => list(value).map(Number))
      .option("--max-in-flight <n>", "attempts in flight at once", integer)
      [required ? "requiredOption" : "option"]("--url <url>", "https URL deliveries are POSTed to")
      [required ? "requiredOption" : "option"]("--types <list>", "comma-separated event types or wildcards (kyc.*)", list);
  const endpointBody = (options: { url?: string; types?: string[]; description?: string; partners?: string[]; versions?: number[]; maxInFlight?: number }) => ({
    ...(options.url === undefined ? {} : { url: options.url }),
    ...(options.types === undefined ? {} : { eventTypes: options.types }),
    ...(options.description === undefined ? {} : { description: options.description }),
    ...(options.partners === undefined ? {} : { partnerIds: options.partners }),
    ...(options.versions === undefined ? {} : { acceptedSchemaVersions: options.versions }),
    ...(options.maxInFlight === undefined ? {} : { maxInFlight: options.maxInFlight }),
  });
  fields(endpoints.command("create").description("Register an endpoint; prints its secret, once"), true).action((options) =>
    set({ method: "POST", path: "/v1/endpoints", body: endpointBody(options) }),
  );
  fields(endpoints.command("update").argument("<endpointId>"), false).action((id: string, options) =>
    set({ method: "PATCH", path: `/v1/endpoints/${encodeURIComponent(id)}`, body: endpointBody(options) }),
  );
  endpoints.command("delete").argument("<endpointId>").action((id: string) => set({ method: "DELETE", path: `/v1/endpoints/${encodeURIComponent(id)}` }));
  for (const action of ["pause", "resume"] as const) {
    endpoints.command(action).argument("<endpointId>").action((id: string) => set({ method: "POST", path: `/v1/endpoints/${encodeURIComponent(id)}/${action}` }));
  }
  endpoints
    .command("rotate-secret")
    .argument("<endpointId>")
    .option("--overlap-hours <hours>", "how long the old secret keeps signing (default 24)", Number)
    .action((id: string, options: { overlapHours?: number }) =>
      set({ method: "POST", path: `/v1/endpoints/${encodeURIComponent(id)}/rotate-secret`, body: options.overlapHours === undefined ? {} : { overlapHours: options.overlapHours } }),
    );
  endpoints
    .command("test")
    .argument("<endpointId>")
    .requiredOption("--type <type>", "event type of the sample event")
    .action((id: string, options: { type: string }) => set({ method: "POST", path: `/v1/endpoints/${encodeURIComponent(id)}/test`, body: { type: options.type } }));

  const history = root.command("history").description("Delivery history");
  history
    .command("list")
    .option("--endpoint <id>")
    .option("--event <id>")
    .option("--type <type>")
    .option("--status <status>", "SUCCEEDED, FAILED_RETRYING, FAILED_TERMINAL or SKIPPED")
    .option("--from <instant>", "first attempt at or after", instant)
    .option("--to <instant>", "first attempt before", instant)
    .option("--limit <n>", "page size", integer)
    .option("--cursor <cursor>", "next page (nextCursor of the previous one)")
    .action((o: Record<string, string | number | undefined>) =>
      set({
        method: "GET",
        path: `/v1/deliveries${query({ endpointId: o.endpoint, eventId: o.event, eventType: o.type, status: o.status, from: o.from, to: o.to, limit: o.limit, cursor: o.cursor })}`,
      }),
    );
  history.command("get").argument("<deliveryId>").action((id: string) => set({ method: "GET", path: `/v1/deliveries/${encodeURIComponent(id)}` }));

  const replay = root.command("replay").description("Replay deliveries (jobs; progress is shown until they end)");
  const noWait = (command: Command) => command.option("--no-wait", "print the job and return at once");
  noWait(replay.command("delivery").argument("<deliveryId>")).action((id: string, options: { wait: boolean }) =>
    set({ method: "POST", path: `/v1/deliveries/${encodeURIComponent(id)}/replay`, follow: options.wait }),
  );
  noWait(
    replay
      .command("range")
      .requiredOption("--endpoint <id>")
      .requiredOption("--from <instant>", "start (inclusive)", instant)
      .requiredOption("--to <instant>", "end (exclusive)", instant)
      .option("--failed-only", "only deliveries that ended FAILED_TERMINAL")
      .option("--types <list>", "only these types or wildcards", list),
  ).action((options: { endpoint: string; from: string; to: string; failedOnly?: boolean; types?: string[]; wait: boolean }) =>
    set({
      method: "POST",
      path: "/v1/replays",
      body: { kind: "range", endpointId: options.endpoint, from: options.from, to: options.to, failedOnly: options.failedOnly ?? false, ...(options.types ? { eventTypes: options.types } : {}) },
      follow: options.wait,
    }),
  );
  noWait(replay.command("backfill").requiredOption("--endpoint <id>").requiredOption("--since <instant>", "events since", instant)).action(
    (options: { endpoint: string; since: string; wait: boolean }) =>
      set({ method: "POST", path: "/v1/replays", body: { kind: "backfill", endpointId: options.endpoint, since: options.since }, follow: options.wait }),
  );
  replay.command("status").argument("<jobId>").action((id: string) => set({ method: "GET", path: `/v1/replays/${encodeURIComponent(id)}` }));
  replay.command("list").action(() => set({ method: "GET", path: "/v1/replays" }));

  const keys = root.command("keys").description("API keys");
  keys
    .command("create")
    .requiredOption("--name <name>")
    .option("--kind <kind>", "organization (default) or operator")
    .option("--for-org <uuid>", "operators: the organization of the new key")
    .action((options: { name: string; kind?: string; forOrg?: string }) =>
      set({ method: "POST", path: "/v1/keys", body: { name: options.name, ...(options.kind ? { kind: options.kind } : {}), ...(options.forOrg ? { organizationUuid: options.forOrg } : {}) } }),
    );
  keys.command("list").action(() => set({ method: "GET", path: "/v1/keys" }));
  root
    .command("portal-link")
    .description("Operators: a short-lived link that signs in to the portal as the organization (--org)")
    .option("--minutes <n>", "how long the link can be used to sign in (default 15)", integer)
    .action((options: { minutes?: number }) =>
      set({ method: "POST", path: "/v1/portal-links", body: options.minutes === undefined ? {} : { ttlMinutes: options.minutes }, organizationInBody: true }),
    );
  keys.command("revoke").argument("<keyId>").action((id: string) => set({ method: "DELETE", path: `/v1/keys/${encodeURIComponent(id)}` }));
  return root;
}

/**
 * `novatrade-ops <group> <command> …`: one admin API request per command (a replay is then
 * followed to its end with a progress bar). Returns the exit code.
 */
export async function runOpsCommand(argv: readonly string[], context: OpsContext): Promise<number> {
  let step: Step | undefined;
  const root = program(context, (chosen) => (step = chosen));
  try {
    root.parse([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_INVALID_INPUT;
    throw error;
  }
  if (!step) {
    context.stderr("error: a command is required (endpoints, history, replay, keys, portal-link); see --help\n");
    return EXIT_INVALID_INPUT;
  }
  const options = root.opts<{ adminUrl?: string; org?: string; pollMs: number }>();
  const apiKey = context.env.NOVATRADE_API_KEY?.trim();
  if (!apiKey) {
    context.stderr("error: NOVATRADE_API_KEY is required (an organization or operator key)\n");
    return EXIT_INVALID_INPUT;
  }
  const client = new AdminClient({
    baseUrl: options.adminUrl ?? context.env.NOVATRADE_ADMIN_URL ?? "http://127.0.0.1:8080",
    apiKey,
    organizationUuid: options.org ?? context.env.NOVATRADE_ORGANIZATION,
    ...(context.fetch ? { fetch: context.fetch } : {}),
  });
  if (step.organizationInBody) {
    const organizationUuid = options.org ?? context.env.NOVATRADE_ORGANIZATION;
    if (!organizationUuid) {
      context.stderr("error: --org <uuid> (or NOVATRADE_ORGANIZATION) is required\n");
      return EXIT_INVALID_INPUT;
    }
    step.body = { organizationUuid, ...(step.body as object) };
  }
  try {
    const answer = await client.call(step.method, step.path, step.body);
    if (!step.follow) {
      context.stdout(`${JSON.stringify(answer.body ?? { done: true })}\n`);
      return EXIT_OK;
    }
    const job: JobStatus = await followReplay(client, (answer.body as JobStatus).jobId, {
      stream: context.progressStream,
      pollIntervalMs: options.pollMs,
      ...(context.sleep ? { sleep: context.sleep } : {}),
    });
    context.stderr(`replay ${job.jobId} ${job.state}: scanned ${job.scanned} of ${job.total}, re-queued ${job.requeued}${job.error ? ` (${job.error})` : ""}\n`);
    context.stdout(`${JSON.stringify(job)}\n`);
    return job.state === "succeeded" ? EXIT_OK : EXIT_FAILURE;
  } catch (error) {
    if (error instanceof AdminRefusal) {
      const field = error.problem.field ? ` (field: ${error.problem.field})` : "";
      context.stderr(`error: ${error.message}${field}; nothing changed\n`);
      return EXIT_INVALID_INPUT;
    }
    if (error instanceof AdminUnavailable) {
      context.stderr(`error: ${error.message}\n`);
      return EXIT_FAILURE;
    }
    throw error;
  }
}
