import { ConfigError, ValidationError, isLegalTopicName, topicNames } from "@novatrade/domain";
import type { EventCodec, SchemaCatalogue } from "@novatrade/event-codec";
import type { KafkaAdmin, KafkaProducer } from "@novatrade/kafka";
import { commonEnv, parseEnv } from "@novatrade/service-runtime";
import { parseProduceArguments, UsageError, type ProduceArguments } from "./cli-arguments.js";
import { createEventProducer } from "./event-producer.js";
import type { EventInput } from "./event-input.js";

export const EXIT_OK = 0;
/** Kafka, the registry or the schemas could not be used; trying again later may work. */
export const EXIT_INFRASTRUCTURE = 1;
/** The arguments, the environment or the event are wrong; nothing was produced. */
export const EXIT_INVALID_INPUT = 2;

/**
 * Partitions the CLI creates the domain topic with when it does not exist yet. An existing
 * topic is left as it is: its partition count is the cluster operator's decision.
 */
export const DOMAIN_TOPIC_PARTITIONS = 6;


/** What the CLI needs to build its clients. */
export interface ProduceConfig {
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  /** pino level for stderr; `warn` unless LOG_LEVEL is set, so stdout-only users see problems only. */
  logLevel: string;
  schemasDirectory: string | undefined;
}

export interface ProduceResources {
  catalogue: SchemaCatalogue;
  codec: Pick<EventCodec, "encode" | "decode">;
  /** Kafka, asked for only when producing (a dry run never connects). */
  kafka(): { admin: Pick<KafkaAdmin, "ensureTopics">; producer: Pick<KafkaProducer, "send"> };
  /** Closes whatever was opened. */
  close(): Promise<void>;
}

export interface ProduceCommandContext {
  env: Record<string, string | undefined>;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Reads a `--data-file`; `-` is standard input. */
  readText(path: string): Promise<string>;
  /** Builds the registry client, codec and Kafka client: the composition root's part. */
  open(config: ProduceConfig): Promise<ProduceResources>;
  clock?: () => Date;
  newEventId?: () => string;
}

/** Which option a field of the event came from, to point the user at what to fix. */
const OPTION_OF_FIELD: Record<string, string> = {
  type: "--type",
  organizationUuid: "--org",
  partnerUuid: "--partner",
  source: "--source",
  schemaVersion: "--schema-version",
  id: "--id",
};

/**
 * `npm run produce -- …`: validates, encodes and produces one event, printing where it went
 * as one JSON line on stdout; errors are one line on stderr. Returns the exit code.
 */
export async function runProduceCommand(argv: readonly string[], context: ProduceCommandContext): Promise<number> {
  let args: ProduceArguments;
  try {
    args = parseProduceArguments(argv, { writeOut: context.stdout, writeErr: context.stderr });
  } catch (error) {
    if (error instanceof UsageError) return error.exitCode;
    throw error;
  }

  let env: ReturnType<typeof parseEnv<typeof commonEnv>>;
  let topic: string;
  let input: EventInput;
  try {
    env = parseEnv(commonEnv, context.env);
    topic = args.topic ?? topicNames({ prefix: env.TOPIC_PREFIX, domainTopic: env.DOMAIN_TOPIC }).domain;
    if (!isLegalTopicName(topic)) throw new ValidationError("--topic", "must be 1 to 249 of letters, digits, '.', '_' and '-'");
    input = {
      type: args.type,
      organizationUuid: args.org,
      partnerUuid: args.partner ?? null,
      source: args.source,
      data: await readData(args, context),
      ...(args.schemaVersion === undefined ? {} : { schemaVersion: args.schemaVersion }),
      ...(args.id === undefined ? {} : { id: args.id }),
    };
  } catch (error) {
    return fail(context, error, args);
  }

  let resources: ProduceResources | undefined;
  try {
    resources = await context.open({
      kafkaBrokers: env.KAFKA_BROKERS,
      schemaRegistryUrl: env.SCHEMA_REGISTRY_URL,
      logLevel: context.env.LOG_LEVEL ? env.LOG_LEVEL : "warn",
      // Like `npm run register-schemas`: the repository's schemas/ unless SCHEMAS_DIR says otherwise.
      schemasDirectory: context.env.SCHEMAS_DIR || undefined,
    });
    const base = {
      codec: resources.codec,
      catalogue: resources.catalogue,
      ...(context.clock ? { clock: context.clock } : {}),
      ...(context.newEventId ? { newEventId: context.newEventId } : {}),
    };
    if (args.dryRun) {
      // Nothing Kafka is touched: the producer below is never called.
      const dryRunProducer = createEventProducer({ ...base, domainTopic: topic, producer: { send: notInADryRun } });
      const prepared = await dryRunProducer.prepare(input);
      context.stdout(
        `${JSON.stringify({ dryRun: true, topic, key: prepared.key, headers: prepared.headers, bytes: prepared.value.length, envelope: prepared.envelope })}\n`,
      );
      return EXIT_OK;
    }
    const kafka = resources.kafka();
    const producer = createEventProducer({ ...base, domainTopic: topic, producer: kafka.producer });
    // Validate (and find the schema id) before touching Kafka: bad input creates nothing.
    const prepared = await producer.prepare(input);
    await kafka.admin.ensureTopics([{ topic, partitions: DOMAIN_TOPIC_PARTITIONS }]);
    // The prepared envelope carries the id and createdAt already chosen, so this is the same event.
    const published = await producer.publish(prepared.envelope);
    context.stdout(
      `${JSON.stringify({ id: published.id, type: published.type, topic: published.topic, partition: published.partition, offset: published.offset })}\n`,
    );
    return EXIT_OK;
  } catch (error) {
    return fail(context, error, args);
  } finally {
    await resources?.close().catch((error: unknown) => context.stderr(`produce: warning: closing connections failed: ${oneLine(String(error))}\n`));
  }
}

async function readData(args: ProduceArguments, context: ProduceCommandContext): Promise<Record<string, unknown>> {
  let text: string;
  if (args.dataFile !== undefined) {
    try {
      text = await context.readText(args.dataFile);
    } catch (error) {
      throw new ValidationError("--data-file", `cannot read ${args.dataFile}: ${(error as Error).message}`);
    }
  } else {
    text = args.data ?? "";
  }
  try {
    // Its shape is validated with the rest of the event, against the Avro schema.
    return JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new ValidationError("data", `is not valid JSON (${(error as Error).message})`);
  }
}

function fail(context: ProduceCommandContext, error: unknown, args: ProduceArguments): number {
  if (error instanceof ValidationError) {
    context.stderr(`produce: invalid event: ${oneLine(error.message)}${optionHint(error.field, args)}; nothing produced\n`);
    return EXIT_INVALID_INPUT;
  }
  if (error instanceof ConfigError) {
    context.stderr(`produce: ${oneLine(error.message)}\n`);
    return EXIT_INVALID_INPUT;
  }
  const described = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  context.stderr(`produce: failed: ${oneLine(described)}\n`);
  return EXIT_INFRASTRUCTURE;
}

function optionHint(field: string, args: ProduceArguments): string {
  // `body` is the whole event's JSON, too large: its bulk is the data.
  if (field === "data" || field === "body" || field.startsWith("data.") || field.startsWith("data[")) {
    return args.dataFile === undefined ? " (from --data)" : " (from --data-file)";
  }
  const option = OPTION_OF_FIELD[field];
  return option ? ` (from ${option})` : "";
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, "; ").trim();
}

async function notInADryRun(): Promise<never> {
  throw new Error("a dry run produces nothing");
}
