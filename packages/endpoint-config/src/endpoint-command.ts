import { Command, CommanderError, InvalidArgumentError } from "commander";
import { ConfigError, isUuid, validateTopicNaming, ValidationError, type TopicNaming } from "@novatrade/domain";
import type { KafkaAdmin } from "@novatrade/kafka";
import { boolVar, commonEnv, parseEnv, pipelineEnv } from "@novatrade/service-runtime";
import type { EndpointConfigPublisher } from "./endpoint-config-publisher.js";
import type { EndpointDirectory } from "./endpoint-directory.js";
import type { EndpointConfig, EndpointSecret } from "./endpoint-record.js";
import { registerEndpoint, rotateSecret, withStatus, type EndpointRegistration } from "./endpoint-registration.js";
import { pipelineTopicSpecs } from "./pipeline-topics.js";
import { SecretBox, SecretDecryptionError } from "./secret-box.js";
import { ConcurrentEndpointChangeError, endpointStore, updateEndpoint } from "./endpoint-update.js";

export const EXIT_OK = 0;
/** Kafka, the registry or the schemas could not be used; trying again later may work. */
export const EXIT_INFRASTRUCTURE = 1;
/** The arguments, the environment or the endpoint are wrong; nothing was written. */
export const EXIT_INVALID_INPUT = 2;
/** The endpoint changed concurrently (another writer came first); this change was not applied: retry. */
export const EXIT_CONFLICT = 3;

/** How long `start()` of the endpoint view may take before the CLI gives up, in milliseconds. */
export const DIRECTORY_READ_TIMEOUT_MS = 60_000;

/** Default overlap of the old and new secret on `rotate-secret`, in hours. */
export const DEFAULT_OVERLAP_HOURS = 24;
/** Longest overlap accepted, in hours: a secret being replaced should not keep signing for months. */
export const MAX_OVERLAP_HOURS = 720;

const HOUR_MS = 60 * 60 * 1000;

/**
 * Environment of the endpoint CLI. The URL policy variables exist for development (`make run`,
 * receivers on this machine over http) and must stay false in production.
 * ENDPOINT_SECRETS_KEY is read separately: only `add` and `rotate-secret` need it.
 */
const endpointCliEnv = {
  ...commonEnv,
  ...pipelineEnv,
  /** Accept http:// endpoint URLs. */
  ENDPOINT_ALLOW_HTTP: boolVar(false),
  /** Accept localhost and loopback addresses. */
  ENDPOINT_ALLOW_LOOPBACK: boolVar(false),
  /** Accept private-network addresses (10/8, 192.168/16, …). */
  ENDPOINT_ALLOW_PRIVATE: boolVar(false),
};

type EndpointCliEnv = ReturnType<typeof parseEnv<typeof endpointCliEnv>>;

/** What the composition root needs to build its clients. */
export interface EndpointCliConfig {
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  /** pino level for stderr; `warn` unless LOG_LEVEL is set, so stdout stays the only output. */
  logLevel: string;
  schemasDirectory: string | undefined;
  naming: TopicNaming;
  /** Partitions of a new endpoint's delivery topic. */
  deliveryTopicPartitions: number;
}

export interface EndpointResources {
  admin: Pick<KafkaAdmin, "ensureTopics">;
  publisher: Pick<EndpointConfigPublisher, "put" | "remove">;
  /** The view of the endpoint-configuration topic, not started yet: the command starts and stops it. */
  directory: Pick<EndpointDirectory, "start" | "stop" | "get" | "all" | "isDeleted" | "catchUp" | "waitForPosition" | "sourceOf">;
  /** Closes whatever was opened. */
  close(): Promise<void>;
}

export interface EndpointCommandContext {
  env: Record<string, string | undefined>;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Builds the registry client, record codec and Kafka client: the composition root's part. */
  open(config: EndpointCliConfig): Promise<EndpointResources>;
  /** Epoch milliseconds. */
  clock?: () => number;
  newEndpointId?: () => string;
  randomBytes?: (size: number) => Buffer;
  /** See DIRECTORY_READ_TIMEOUT_MS. */
  directoryTimeoutMs?: number;
}

/** What the command line asks for, before anything is validated against the domain rules. */
export type EndpointRequest =
  | {
      command: "add";
      org: string;
      url: string;
      types: string;
      partners?: string;
      versions?: string;
      description?: string;
      maxInFlight?: number;
    }
  | { command: "list"; org?: string }
  | { command: "pause" | "resume" | "disable" | "delete"; endpointId: string }
  | { command: "rotate-secret"; endpointId: string; overlapHours: number };

type StatusCommand = "pause" | "resume" | "disable";
const STATUS_OF: Record<StatusCommand, EndpointConfig["status"]> = { pause: "PAUSED", resume: "ACTIVE", disable: "DISABLED" };

/** Which option a field of the registration came from, to point the user at what to fix. */
const OPTION_OF_FIELD: Record<string, string> = {
  organizationUuid: "--org",
  url: "--url",
  eventTypes: "--types",
  partnerIds: "--partners",
  acceptedSchemaVersions: "--versions",
  description: "--description",
  maxInFlight: "--max-in-flight",
};

/** An endpoint's record as printed: everything but the sealed secrets. */
export type EndpointView = Omit<EndpointConfig, "secrets"> & { secrets: Array<Omit<EndpointSecret, "ciphertext">> };

export function endpointView(config: EndpointConfig): EndpointView {
  return { ...config, secrets: config.secrets.map(({ ciphertext: _sealed, ...secret }) => secret) };
}

/** The endpoint id first, then what is shown only once (the plaintext secret), then the rest. */
function withSecret(config: EndpointConfig, shownOnce: { secretId?: string; secret: string }) {
  const { endpointId, ...rest } = endpointView(config);
  return { endpointId, ...shownOnce, ...rest };
}

/** The command line was wrong; commander has already printed why. */
class UsageError extends Error {
  constructor(
    message: string,
    /** 0 when help was asked for and printed. */
    readonly exitCode: number,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * `npm run endpoint -- <command> …`: manages endpoints on the endpoint-configuration topic until
 * the admin service does. Prints one JSON line on stdout; errors are one line on stderr.
 * A plaintext signing secret appears only on stdout of `add` and `rotate-secret`, never in an
 * error or a log line. Returns the exit code.
 */
export async function runEndpointCommand(argv: readonly string[], context: EndpointCommandContext): Promise<number> {
  let request: EndpointRequest;
  try {
    request = parseEndpointArguments(argv, context);
  } catch (error) {
    if (error instanceof UsageError) return error.exitCode;
    throw error;
  }
  const name = request.command;

  let env: EndpointCliEnv;
  let naming: TopicNaming;
  let secretBox: SecretBox | undefined;
  let registration: EndpointRegistration | undefined;
  const now = () => (context.clock ?? Date.now)();
  try {
    env = parseEnv(endpointCliEnv, context.env);
    naming = validateTopicNaming({ prefix: env.TOPIC_PREFIX, domainTopic: env.DOMAIN_TOPIC });
    if (request.command === "add" || request.command === "rotate-secret") secretBox = openSecretBox(context.env);
    if (request.command === "list" && request.org !== undefined && !isUuid(request.org)) {
      throw new ValidationError("organizationUuid", "must be a UUID");
    }
    if (request.command === "add") {
      registration = {
        organizationUuid: request.org,
        url: request.url,
        eventTypes: splitList(request.types),
        partnerIds: request.partners === undefined ? null : splitList(request.partners),
        acceptedSchemaVersions: request.versions === undefined ? [1] : splitList(request.versions).map(strictInteger),
        ...(request.description === undefined ? {} : { description: request.description }),
        ...(request.maxInFlight === undefined ? {} : { maxInFlight: request.maxInFlight }),
      };
    }
  } catch (error) {
    return fail(context, name, error);
  }

  // Validate before connecting anywhere: a bad registration creates no topic and writes nothing.
  let registered: ReturnType<typeof registerEndpoint> | undefined;
  if (registration) {
    try {
      registered = registerEndpoint(registration, {
        secretBox: secretBox!,
        now: now(),
        urlPolicy: { allowHttp: env.ENDPOINT_ALLOW_HTTP, allowLoopback: env.ENDPOINT_ALLOW_LOOPBACK, allowPrivate: env.ENDPOINT_ALLOW_PRIVATE },
        ...(context.newEndpointId ? { newEndpointId: context.newEndpointId } : {}),
        ...(context.randomBytes ? { randomBytes: context.randomBytes } : {}),
      });
    } catch (error) {
      return fail(context, name, error);
    }
  }

  let resources: EndpointResources | undefined;
  let directoryStarted = false;
  try {
    resources = await context.open({
      kafkaBrokers: env.KAFKA_BROKERS,
      schemaRegistryUrl: env.SCHEMA_REGISTRY_URL,
      logLevel: context.env.LOG_LEVEL ? env.LOG_LEVEL : "warn",
      // Like `npm run register-schemas`: the repository's schemas/ unless SCHEMAS_DIR says otherwise.
      schemasDirectory: context.env.SCHEMAS_DIR || undefined,
      naming,
      deliveryTopicPartitions: env.DELIVERY_TOPIC_PARTITIONS,
    });
    const { admin, publisher, directory } = resources;
    // Every topic the router and senders expect, so an endpoint added before they ever ran
    // (a fresh `make run`) does not wait on a missing topic.
    const ensurePipelineTopics = () =>
      admin.ensureTopics(
        pipelineTopicSpecs({
          naming,
          partitions: env.TOPIC_PARTITIONS,
          deliveryTopicPartitions: env.DELIVERY_TOPIC_PARTITIONS,
          retrySchedule: env.RETRY_SCHEDULE,
        }),
      );
    const readDirectory = async () => {
      directoryStarted = true;
      await withTimeout(directory.start(), context.directoryTimeoutMs ?? DIRECTORY_READ_TIMEOUT_MS, "reading the endpoint-configuration topic");
    };
    const existing = async (endpointId: string): Promise<EndpointConfig> => {
      await readDirectory();
      const config = directory.get(endpointId);
      if (config) return config;
      throw new ValidationError("endpointId", directory.isDeleted(endpointId) ? `endpoint ${endpointId} was deleted` : `no endpoint ${endpointId}`);
    };

    switch (request.command) {
      case "add": {
        const { config, plaintextSecret } = registered!;
        await ensurePipelineTopics();
        await publisher.put(config);
        print(context, withSecret(config, { secret: plaintextSecret }));
        return EXIT_OK;
      }
      case "list": {
        await readDirectory();
        const org = request.org?.toLowerCase();
        const endpoints = [...directory.all()]
          .filter((config) => org === undefined || config.organizationUuid.toLowerCase() === org)
          .sort((a, b) => a.organizationUuid.localeCompare(b.organizationUuid) || a.createdAt - b.createdAt || a.endpointId.localeCompare(b.endpointId))
          .map(endpointView);
        print(context, { endpoints });
        return EXIT_OK;
      }
      case "pause":
      case "resume":
      case "disable": {
        const current = await existing(request.endpointId);
        const status = STATUS_OF[request.command];
        // Pausing keeps an endpoint's deliveries coming (they wait); doing that to a disabled
        // endpoint would quietly start routing to it again.
        if (request.command === "pause" && current.status === "DISABLED") {
          throw new ValidationError("status", `endpoint ${current.endpointId} is DISABLED; resume it first if it should receive events again`);
        }
        if (current.status === status) {
          print(context, endpointView(current));
          return EXIT_OK;
        }
        await ensurePipelineTopics();
        // Compare-and-set on the revision read: a change that raced this one is not overwritten.
        const next = await updateEndpoint(endpointStore(publisher, directory), current.endpointId, current.revision, (latest) =>
          withStatus(latest, status, Math.max(now(), latest.updatedAt)),
        );
        print(context, endpointView(next));
        return EXIT_OK;
      }
      case "rotate-secret": {
        const current = await existing(request.endpointId);
        const at = Math.max(now(), current.updatedAt);
        assertKeyOpens(secretBox!, current, at);
        await ensurePipelineTopics();
        let plaintextSecret = "";
        // Compare-and-set: the new secret is printed only if it is the one senders will sign with.
        const config = await updateEndpoint(endpointStore(publisher, directory), current.endpointId, current.revision, (latest) => {
          const rotated = rotateSecret(latest, {
            secretBox: secretBox!,
            now: at,
            overlapMs: Math.round(request.overlapHours * HOUR_MS),
            ...(context.randomBytes ? { randomBytes: context.randomBytes } : {}),
          });
          plaintextSecret = rotated.plaintextSecret;
          return rotated.config;
        });
        const newest = config.secrets[config.secrets.length - 1]!;
        print(context, withSecret(config, { secretId: newest.secretId, secret: plaintextSecret }));
        return EXIT_OK;
      }
      case "delete": {
        const current = await existing(request.endpointId);
        await ensurePipelineTopics();
        await publisher.remove(current.endpointId);
        print(context, { endpointId: current.endpointId, deleted: true });
        return EXIT_OK;
      }
      default:
        return unreachable(request);
    }
  } catch (error) {
    return fail(context, name, error);
  } finally {
    const warn = (what: string) => (error: unknown) =>
      context.stderr(`endpoint ${name}: warning: ${what} failed: ${oneLine(describe(error))}\n`);
    if (directoryStarted) await resources?.directory.stop().catch(warn("stopping the endpoint view"));
    await resources?.close().catch(warn("closing connections"));
  }
}

/**
 * Parses `npm run endpoint -- …` arguments (without `node` and the script).
 * @throws UsageError after commander printed the problem (or the help) to the context's output.
 */
function parseEndpointArguments(argv: readonly string[], output: Pick<EndpointCommandContext, "stdout" | "stderr">): EndpointRequest {
  let request: EndpointRequest | undefined;
  const program = new Command("endpoint")
    .description("Manage webhook endpoints on the endpoint-configuration topic (until the admin service does).")
    .exitOverride()
    .configureOutput({ writeOut: output.stdout, writeErr: output.stderr })
    .addHelpText(
      "after",
      [
        "",
        "Environment: KAFKA_BROKERS, SCHEMA_REGISTRY_URL, TOPIC_PREFIX, DOMAIN_TOPIC, TOPIC_PARTITIONS, DELIVERY_TOPIC_PARTITIONS,",
        "RETRY_SCHEDULE, LOG_LEVEL (logs go to stderr, warn and above unless set), SCHEMAS_DIR;",
        "ENDPOINT_SECRETS_KEY (32 random bytes, base64; the senders' key) for add and rotate-secret;",
        "ENDPOINT_ALLOW_HTTP, ENDPOINT_ALLOW_LOOPBACK, ENDPOINT_ALLOW_PRIVATE (true/false, default false; development only).",
        "Prints one JSON line on stdout. Creates the pipeline's topics if they are missing.",
        "Exit codes: 0 done, 2 invalid input or unknown endpoint (nothing written), 1 infrastructure failure,",
        "3 the endpoint changed concurrently (this change was not applied; run the command again).",
      ].join("\n"),
    );
  // Subcommands made after exitOverride/configureOutput inherit both.
  program
    .command("add")
    .description("Register an endpoint; prints it with its signing secret, which is shown only this once.")
    .requiredOption("--org <uuid>", "organizationUuid: the tenant whose events the endpoint receives")
    .requiredOption("--url <url>", "where deliveries are POSTed (https)")
    .requiredOption("--types <list>", "comma-separated event types or domain wildcards, e.g. kyc.*,compliance.status_changed")
    .option("--partners <list>", "comma-separated partner UUIDs to limit deliveries to (default: all partners)")
    .option("--versions <list>", "comma-separated schema versions the endpoint can read (default: 1)")
    .option("--description <text>", "free text, at most 500 characters")
    .option("--max-in-flight <n>", "attempts in flight at once for this endpoint (default: 10)", parsePositiveInteger)
    .action((options: Omit<Extract<EndpointRequest, { command: "add" }>, "command">) => {
      request = { command: "add", ...options };
    });
  program
    .command("list")
    .description("Print every endpoint (without secrets).")
    .option("--org <uuid>", "only this organization's endpoints")
    .action((options: { org?: string }) => {
      request = { command: "list", ...options };
    });
  const describeStatus: Record<StatusCommand, string> = {
    pause: "Pause an endpoint: its deliveries wait (nothing is dropped) until it is resumed.",
    resume: "Make an endpoint ACTIVE again (from PAUSED or DISABLED).",
    disable: "Disable an endpoint: no new deliveries are routed to it.",
  };
  for (const command of ["pause", "resume", "disable"] as const) {
    program
      .command(command)
      .description(describeStatus[command])
      .argument("<endpointId>")
      .action((endpointId: string) => {
        request = { command, endpointId };
      });
  }
  program
    .command("rotate-secret")
    .description("Add a new signing secret, printed only this once; the current ones keep signing for the overlap.")
    .argument("<endpointId>")
    .option("--overlap-hours <hours>", `how long the current secrets keep signing, at most ${MAX_OVERLAP_HOURS}`, parseOverlapHours, DEFAULT_OVERLAP_HOURS)
    .action((endpointId: string, options: { overlapHours: number }) => {
      request = { command: "rotate-secret", endpointId, overlapHours: options.overlapHours };
    });
  program
    .command("delete")
    .description("Delete an endpoint (a tombstone); its delivery topic stays until retention.")
    .argument("<endpointId>")
    .action((endpointId: string) => {
      request = { command: "delete", endpointId };
    });

  try {
    program.parse([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) throw new UsageError(error.message, error.exitCode === 0 ? EXIT_OK : EXIT_INVALID_INPUT);
    throw error;
  }
  if (!request) {
    // Only reachable through commander paths that print and throw, but be explicit.
    output.stderr("error: a command is required (add, list, pause, resume, disable, rotate-secret, delete)\n");
    throw new UsageError("no command", EXIT_INVALID_INPUT);
  }
  return request;
}

function openSecretBox(env: Record<string, string | undefined>): SecretBox {
  const key = env.ENDPOINT_SECRETS_KEY?.trim();
  if (!key) throw new ConfigError("ENDPOINT_SECRETS_KEY: is required for add and rotate-secret (32 random bytes, base64; the same key the senders use)");
  return SecretBox.fromBase64Key(key);
}

/**
 * A secret sealed with another key than the senders' would make every delivery of the endpoint
 * unsignable; the current secrets opening with this key is the evidence that it is the right one.
 */
function assertKeyOpens(secretBox: SecretBox, config: EndpointConfig, nowMs: number): void {
  for (const secret of config.secrets) {
    if (secret.expiresAt !== null && secret.expiresAt <= nowMs) continue;
    try {
      secretBox.open(secret.ciphertext, config.endpointId);
    } catch (error) {
      if (error instanceof SecretDecryptionError) {
        throw new ConfigError(`ENDPOINT_SECRETS_KEY: does not open the current secrets of ${config.endpointId}; is it the senders' key?`);
      }
      throw error;
    }
  }
}

function splitList(text: string): string[] {
  return text.split(",").map((item) => item.trim());
}

/** Anything but plain digits becomes NaN, which the domain validation reports with its field. */
function strictInteger(text: string): number {
  return /^[0-9]{1,9}$/.test(text) ? Number(text) : Number.NaN;
}

function parsePositiveInteger(value: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(value)) throw new InvalidArgumentError("must be a positive integer.");
  return Number(value);
}

function parseOverlapHours(value: string): number {
  const hours = /^[0-9]+(\.[0-9]+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!(hours >= 0 && hours <= MAX_OVERLAP_HOURS)) throw new InvalidArgumentError(`must be a number of hours from 0 to ${MAX_OVERLAP_HOURS}.`);
  return hours;
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function unreachable(value: never): never {
  throw new Error(`unhandled command ${JSON.stringify(value)}`);
}

function print(context: EndpointCommandContext, value: unknown): void {
  context.stdout(`${JSON.stringify(value)}\n`);
}

function fail(context: EndpointCommandContext, name: string, error: unknown): number {
  if (error instanceof ValidationError) {
    const option = OPTION_OF_FIELD[error.field.replace(/[.[].*$/, "")];
    context.stderr(`endpoint ${name}: invalid input: ${oneLine(error.message)}${option ? ` (from ${option})` : ""}; nothing written\n`);
    return EXIT_INVALID_INPUT;
  }
  if (error instanceof ConfigError) {
    context.stderr(`endpoint ${name}: ${oneLine(error.message)}; nothing written\n`);
    return EXIT_INVALID_INPUT;
  }
  if (error instanceof ConcurrentEndpointChangeError) {
    context.stderr(`endpoint ${name}: ${oneLine(error.message)}\n`);
    return EXIT_CONFLICT;
  }
  context.stderr(`endpoint ${name}: failed: ${oneLine(describe(error))}\n`);
  return EXIT_INFRASTRUCTURE;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, "; ").trim();
}
