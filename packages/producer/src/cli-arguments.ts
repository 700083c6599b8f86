import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { EVENT_SOURCES, type EventSource } from "@novatrade/domain";

/** What the command line asks for, before any file is read or anything is validated. */
export interface ProduceArguments {
  type: string;
  org: string;
  partner?: string;
  source: EventSource;
  schemaVersion?: number;
  /** Exactly one of `data` (JSON text) and `dataFile` (a path, `-` for standard input). */
  data?: string;
  dataFile?: string;
  id?: string;
  topic?: string;
  dryRun: boolean;
}

/** The command line was wrong; commander has already printed why. */
export class UsageError extends Error {
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
 * A command-line producer is neither the public API nor the web app, so its events are
 * `SYSTEM` unless it says otherwise. (The library has no default: see EventInput.source.)
 */
export const CLI_DEFAULT_SOURCE: EventSource = "SYSTEM";

export interface ArgumentOutput {
  writeOut(text: string): void;
  writeErr(text: string): void;
}

/**
 * Parses `npm run produce -- …` arguments (without `node` and the script).
 * @throws UsageError after commander printed the problem (or the help) to `output`.
 */
export function parseProduceArguments(argv: readonly string[], output: ArgumentOutput): ProduceArguments {
  const program = new Command("produce")
    .description("Validate one event, encode it with its Avro schema and produce it to the domain topic, keyed by organization.")
    .requiredOption("--type <type>", "event type, e.g. kyc.vies_check_failed")
    .requiredOption("--org <uuid>", "organizationUuid: the tenant, also the Kafka key")
    .option("--partner <uuid>", "partnerUuid: the dealer the event belongs to (default: none)")
    .addOption(new Option("--source <source>", "where the change came from").choices(EVENT_SOURCES).default(CLI_DEFAULT_SOURCE))
    .option("--schema-version <n>", "version of the data shape (default: the newest in schemas/)", parsePositiveInteger)
    .option("--data <json>", "the event's data as JSON")
    .addOption(new Option("--data-file <path>", "read the data JSON from a file ('-' for standard input)").conflicts("data"))
    .option("--id <id>", "event id, evt_<12 to 64 letters or digits> (default: a random one); reuse it to retry safely")
    .option("--topic <name>", "domain topic (default: $DOMAIN_TOPIC, else novatrade.events)")
    .option("--dry-run", "validate and encode only; print the event instead of producing it", false)
    .addHelpText(
      "after",
      [
        "",
        "Environment: KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DOMAIN_TOPIC, LOG_LEVEL (logs go to stderr, warn and above unless set), SCHEMAS_DIR.",
        "Prints {id, type, topic, partition, offset} as one JSON line on stdout. Creates the domain topic (6 partitions) if it is missing.",
        "Exit codes: 0 produced, 2 invalid input (nothing produced), 1 infrastructure failure.",
      ].join("\n"),
    )
    .exitOverride()
    .configureOutput({ writeOut: output.writeOut, writeErr: output.writeErr });
  try {
    program.parse([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      const helpShown = error.code === "commander.helpDisplayed" || error.code === "commander.help" || error.code === "commander.version";
      throw new UsageError(error.message, helpShown ? 0 : 2);
    }
    throw error;
  }
  const options = program.opts<ProduceArguments>();
  if (options.data === undefined && options.dataFile === undefined) {
    output.writeErr("error: one of '--data <json>' and '--data-file <path>' is required\n");
    throw new UsageError("no data", 2);
  }
  return options;
}

function parsePositiveInteger(value: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(value)) throw new InvalidArgumentError("must be a positive integer.");
  return Number(value);
}
