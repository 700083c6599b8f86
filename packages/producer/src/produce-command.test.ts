import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EventCodec, InMemorySchemaRegistry, loadSchemaCatalogue, sampleEvent, type SchemaCatalogue } from "@novatrade/event-codec";
import type { OutgoingMessage, ProduceAck, TopicSpec } from "@novatrade/kafka";
import { EXIT_INFRASTRUCTURE, EXIT_INVALID_INPUT, EXIT_OK, runProduceCommand, type ProduceCommandContext, type ProduceConfig } from "./produce-command.js";

const ORG = "550e8400-e29b-41d4-a716-446655440000";
const VIES = JSON.stringify(sampleEvent("kyc.vies_check_failed").data);

let catalogue: SchemaCatalogue;
beforeAll(async () => {
  catalogue = await loadSchemaCatalogue();
});

interface Harness {
  context: ProduceCommandContext;
  out: string[];
  err: string[];
  sent: Array<{ topic: string; messages: OutgoingMessage[] }>;
  ensured: TopicSpec[][];
  opened: ProduceConfig[];
  kafkaAskedFor: number;
  closed: number;
  registry: InMemorySchemaRegistry;
  files: Record<string, string>;
  sendError?: Error;
}

let h: Harness;

beforeEach(() => {
  const registry = new InMemorySchemaRegistry().addCatalogue(catalogue);
  const harness: Harness = {
    out: [],
    err: [],
    sent: [],
    ensured: [],
    opened: [],
    kafkaAskedFor: 0,
    closed: 0,
    registry,
    files: {},
    context: undefined as unknown as ProduceCommandContext,
  };
  harness.context = {
    env: {},
    stdout: (text) => harness.out.push(text),
    stderr: (text) => harness.err.push(text),
    readText: async (path) => {
      const text = harness.files[path];
      if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
      return text;
    },
    open: async (config) => {
      harness.opened.push(config);
      return {
        catalogue,
        codec: new EventCodec({ registry, catalogue }),
        kafka: () => {
          harness.kafkaAskedFor++;
          return {
            admin: {
              ensureTopics: async (specs: TopicSpec[]) => {
                harness.ensured.push(specs);
                return { created: specs.map((s) => s.topic), existing: [] };
              },
            },
            producer: {
              send: async (topic: string, messages: OutgoingMessage[]): Promise<ProduceAck[]> => {
                if (harness.sendError) throw harness.sendError;
                harness.sent.push({ topic, messages });
                return [{ topic, partition: 2, baseOffset: "41" }];
              },
            },
          };
        },
        close: async () => {
          harness.closed++;
        },
      };
    },
    clock: () => new Date("2026-04-22T10:30:00.000Z"),
    newEventId: () => "evt_0123456789abcdef01234567",
  };
  h = harness;
});

const run = (...argv: string[]) => runProduceCommand(argv, h.context);
const stderrLine = () => {
  const text = h.err.join("");
  expect(text.trim().split("\n")).toHaveLength(1);
  return text.trim();
};

describe("produce command", () => {
  it("produces to the default domain topic, creating it if missing, and prints where it went", async () => {
    expect(await run("--type", "kyc.vies_check_failed", "--org", ORG, "--data", VIES)).toBe(EXIT_OK);

    expect(h.ensured).toEqual([[{ topic: "novatrade.events", partitions: 6 }]]);
    expect(h.sent).toHaveLength(1);
    expect(h.sent[0]!.topic).toBe("novatrade.events");
    expect(h.sent[0]!.messages[0]!.key).toBe(ORG);
    expect(JSON.parse(h.out.join(""))).toEqual({
      id: "evt_0123456789abcdef01234567",
      type: "kyc.vies_check_failed",
      topic: "novatrade.events",
      partition: 2,
      offset: "41",
    });
    expect(h.out.join("").endsWith("}\n")).toBe(true);
    expect(h.err).toEqual([]);
    expect(h.closed).toBe(1);
  });

  it("passes every option through and defaults source to SYSTEM", async () => {
    const partner = "11111111-2222-4333-8444-555555555555";
    h.context.env = { DOMAIN_TOPIC: "from-env.events", KAFKA_BROKERS: "k1:9092,k2:9092", SCHEMA_REGISTRY_URL: "http://registry:8081" };
    const code = await run(
      "--type", "compliance.status_changed", "--org", ORG, "--partner", partner, "--schema-version", "1",
      "--id", "evt_chosenbythecaller1", "--data", JSON.stringify(sampleEvent("compliance.status_changed").data),
    );
    expect(code).toBe(EXIT_OK);
    expect(h.opened[0]).toEqual({ kafkaBrokers: ["k1:9092", "k2:9092"], schemaRegistryUrl: "http://registry:8081", logLevel: "warn", schemasDirectory: undefined });
    expect(h.sent[0]!.topic).toBe("from-env.events");
    const decoded = await new EventCodec({ registry: h.registry, catalogue }).decode(h.sent[0]!.messages[0]!.value!);
    expect(decoded.envelope).toMatchObject({ id: "evt_chosenbythecaller1", schemaVersion: 1, source: "SYSTEM", partnerUuid: partner });

    expect(await run("--type", "kyc.vies_check_failed", "--org", ORG, "--source", "WEB_APP", "--topic", "explicit.topic", "--data", VIES)).toBe(EXIT_OK);
    expect(h.sent[1]!.topic).toBe("explicit.topic");
  });

  it("reads the data from a file", async () => {
    h.files["/tmp/vies.json"] = VIES;
    expect(await run("--type", "kyc.vies_check_failed", "--org", ORG, "--data-file", "/tmp/vies.json")).toBe(EXIT_OK);
    expect(h.sent).toHaveLength(1);
  });

  it("a dry run validates and encodes, prints the event, and never asks for Kafka", async () => {
    expect(await run("--type", "kyc.vies_check_failed", "--org", ORG, "--data", VIES, "--dry-run")).toBe(EXIT_OK);

    expect(h.kafkaAskedFor).toBe(0);
    const printed = JSON.parse(h.out.join(""));
    expect(printed).toMatchObject({ dryRun: true, topic: "novatrade.events", key: ORG, headers: { "event-type": "kyc.vies_check_failed" } });
    expect(printed.envelope).toEqual({ ...sampleEvent("kyc.vies_check_failed"), id: "evt_0123456789abcdef01234567", source: "SYSTEM", partnerUuid: null });
  });

  const invalid: Array<[string, string[], RegExp]> = [
    ["a data field Avro rejects", ["--type", "kyc.vies_check_failed", "--org", ORG, "--data", '{"bad":1}'], /data\.\w+.*--data/],
    ["unparsable JSON", ["--type", "kyc.vies_check_failed", "--org", ORG, "--data", "{nope"], /\bdata: is not valid JSON/],
    ["an unknown type", ["--type", "kyc.nope", "--org", ORG, "--data", VIES], /\btype: unknown event type "kyc\.nope".*--type/],
    ["an organization that is not a UUID", ["--type", "kyc.vies_check_failed", "--org", "acme", "--data", VIES], /organizationUuid: must be a UUID.*--org/],
    ["a partner that is not a UUID", ["--type", "kyc.vies_check_failed", "--org", ORG, "--partner", "x", "--data", VIES], /partnerUuid: .*--partner/],
    ["a bad id", ["--type", "kyc.vies_check_failed", "--org", ORG, "--id", "1", "--data", VIES], /\bid: .*--id/],
    ["a schema version that does not exist", ["--type", "kyc.vies_check_failed", "--org", ORG, "--schema-version", "3", "--data", VIES], /schemaVersion: .*--schema-version/],
    ["a data file that cannot be read", ["--type", "kyc.vies_check_failed", "--org", ORG, "--data-file", "/nope.json"], /--data-file: cannot read \/nope\.json/],
    [
      "an event larger than 256 KiB of JSON",
      ["--type", "kyc.vies_check_failed", "--org", ORG, "--data", JSON.stringify({ ...JSON.parse(VIES), companyName: "x".repeat(262_144) })],
      /body: too_large: the event's JSON body is \d+ bytes, more than the 262144 bytes \(256 KiB\).*--data/,
    ],
    ["an illegal topic name", ["--type", "kyc.vies_check_failed", "--org", ORG, "--topic", "a topic", "--data", VIES], /--topic: /],
  ];

  it.each(invalid)("%s: exit 2, one line naming the field, nothing produced", async (_name, argv, pattern) => {
    expect(await run(...argv)).toBe(EXIT_INVALID_INPUT);
    expect(stderrLine()).toMatch(pattern);
    expect(h.out).toEqual([]);
    expect(h.sent).toEqual([]);
    expect(h.ensured).toEqual([]);
  });

  const usage: Array<[string, string[], RegExp]> = [
    ["no --type", ["--org", ORG, "--data", VIES], /--type/],
    ["no --org", ["--type", "kyc.vies_check_failed", "--data", VIES], /--org/],
    ["no data", ["--type", "kyc.vies_check_failed", "--org", ORG], /--data/],
    ["both --data and --data-file", ["--type", "kyc.vies_check_failed", "--org", ORG, "--data", VIES, "--data-file", "x"], /--data/],
    ["an unknown source", ["--type", "kyc.vies_check_failed", "--org", ORG, "--source", "CRON", "--data", VIES], /--source.*API, WEB_APP, SYSTEM/],
    ["a schema version that is not a number", ["--type", "kyc.vies_check_failed", "--org", ORG, "--schema-version", "two", "--data", VIES], /--schema-version/],
    ["an unknown option", ["--type", "kyc.vies_check_failed", "--org", ORG, "--data", VIES, "--colour"], /--colour/],
  ];

  it.each(usage)("usage error, %s: exit 2 with commander's message", async (_name, argv, pattern) => {
    expect(await run(...argv)).toBe(EXIT_INVALID_INPUT);
    expect(h.err.join("")).toMatch(pattern);
    expect(h.opened).toEqual([]);
  });

  it("a bad environment variable: exit 2 naming it", async () => {
    h.context.env = { SCHEMA_REGISTRY_URL: "not a url" };
    expect(await run("--type", "kyc.vies_check_failed", "--org", ORG, "--data", VIES)).toBe(EXIT_INVALID_INPUT);
    expect(stderrLine()).toMatch(/SCHEMA_REGISTRY_URL/);
    expect(h.opened).toEqual([]);
  });

  it("--help prints to stdout and exits 0", async () => {
    expect(await run("--help")).toBe(EXIT_OK);
    expect(h.out.join("")).toMatch(/--data-file/);
  });

  it("an unregistered schema is an infrastructure failure: exit 1, nothing produced", async () => {
    h.registry = new InMemorySchemaRegistry();
    const open = h.context.open;
    h.context.open = async (config) => ({ ...(await open(config)), codec: new EventCodec({ registry: h.registry, catalogue }) });
    expect(await run("--type", "kyc.vies_check_failed", "--org", ORG, "--data", VIES)).toBe(EXIT_INFRASTRUCTURE);
    expect(stderrLine()).toMatch(/SchemaRegistryError: .*not registered/);
    expect(h.sent).toEqual([]);
    expect(h.closed).toBe(1);
  });

  it("a Kafka failure: exit 1 with the message", async () => {
    h.sendError = Object.assign(new Error("produce to novatrade.events failed: Connection error"), { name: "KafkaError" });
    expect(await run("--type", "kyc.vies_check_failed", "--org", ORG, "--data", VIES)).toBe(EXIT_INFRASTRUCTURE);
    expect(stderrLine()).toBe("produce: failed: KafkaError: produce to novatrade.events failed: Connection error");
    expect(h.out).toEqual([]);
    expect(h.closed).toBe(1);
  });
});
