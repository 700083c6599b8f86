import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_RETRY_SCHEDULE, parseRetrySchedule } from "@novatrade/domain";
import type { TopicSpec } from "@novatrade/kafka";
import {
  EXIT_CONFLICT,
  EXIT_INFRASTRUCTURE,
  EXIT_INVALID_INPUT,
  EXIT_OK,
  runEndpointCommand,
  type EndpointCliConfig,
  type EndpointCommandContext,
} from "./endpoint-command.js";
import type { EndpointConfig } from "./endpoint-record.js";
import { registerEndpoint } from "./endpoint-registration.js";
import { pipelineTopicSpecs } from "./pipeline-topics.js";
import { SecretBox } from "./secret-box.js";

const KEY = Buffer.alloc(32, 7).toString("base64");
const OTHER_KEY = Buffer.alloc(32, 8).toString("base64");
const ORG = "550e8400-e29b-41d4-a716-446655440000";
const OTHER_ORG = "11111111-2222-4333-8444-555555555555";
const PARTNER = "6ba7b810-9dad-41d1-80b4-00c04fd430c8";
const NOW = 1_780_000_000_000;
const HOUR_MS = 3_600_000;

/** A fake of everything Kafka: the endpoint view, the publisher and the admin. */
interface Harness {
  context: EndpointCommandContext;
  out: string[];
  err: string[];
  opened: EndpointCliConfig[];
  ensured: TopicSpec[][];
  puts: EndpointConfig[];
  removes: string[];
  endpoints: Map<string, EndpointConfig>;
  deleted: Set<string>;
  started: number;
  stopped: number;
  closed: number;
  putError?: Error;
  startHangs?: boolean;
  /** The record each endpoint's configuration came from, as the view's sourceOf answers. */
  sources: Map<string, { partition: number; offset: string; afterDeletion: boolean }>;
  /** Written by "another writer" just before the command's own write lands. */
  racingWrite?: EndpointConfig;
}

let h: Harness;

beforeEach(() => {
  const harness: Harness = {
    out: [],
    err: [],
    opened: [],
    ensured: [],
    puts: [],
    removes: [],
    endpoints: new Map(),
    deleted: new Set(),
    sources: new Map(),
    started: 0,
    stopped: 0,
    closed: 0,
    context: undefined as unknown as EndpointCommandContext,
  };
  harness.context = {
    env: { ENDPOINT_SECRETS_KEY: KEY },
    stdout: (text) => harness.out.push(text),
    stderr: (text) => harness.err.push(text),
    open: async (config) => {
      harness.opened.push(config);
      return {
        admin: {
          ensureTopics: async (specs: TopicSpec[]) => {
            harness.ensured.push(specs);
            return { created: [], existing: specs.map((spec) => spec.topic) };
          },
        },
        publisher: {
          put: async (config: EndpointConfig) => {
            if (harness.putError) throw harness.putError;
            // The topic as readers see it: a record counts only if its revision is newer.
            const append = (record: EndpointConfig) => {
              const offset = String(harness.puts.length);
              harness.puts.push(record);
              const previous = harness.endpoints.get(record.endpointId);
              if (!previous || previous.revision < record.revision) {
                harness.endpoints.set(record.endpointId, record);
                harness.sources.set(record.endpointId, { partition: 0, offset, afterDeletion: false });
              }
              return { partition: 0, offset };
            };
            if (harness.racingWrite) append(harness.racingWrite);
            return append(config);
          },
          remove: async (endpointId: string) => {
            harness.removes.push(endpointId);
          },
        },
        directory: {
          start: () => {
            harness.started++;
            return harness.startHangs ? new Promise<void>(() => {}) : Promise.resolve();
          },
          stop: async () => {
            harness.stopped++;
          },
          get: (endpointId: string) => harness.endpoints.get(endpointId),
          all: () => harness.endpoints.values(),
          isDeleted: (endpointId: string) => harness.deleted.has(endpointId),
          catchUp: async () => undefined,
          waitForPosition: async () => undefined,
          sourceOf: (endpointId: string) => harness.sources.get(endpointId),
        },
        close: async () => {
          harness.closed++;
        },
      };
    },
    clock: () => NOW,
    newEndpointId: () => "ep_0123456789abcdef0123456789abcdef",
  };
  h = harness;
});

afterEach(() => {
  // The plaintext secret may reach stdout of add/rotate-secret and nowhere else.
  expect(h.err.join("")).not.toMatch(/whsec_/);
});

const run = (...argv: string[]) => runEndpointCommand(argv, h.context);
const printed = () => {
  expect(h.out).toHaveLength(1);
  expect(h.out[0]!.endsWith("}\n")).toBe(true);
  return JSON.parse(h.out[0]!) as Record<string, unknown>;
};
const stderrLine = () => {
  const text = h.err.join("");
  expect(text.trim().split("\n")).toHaveLength(1);
  return text.trim();
};
const nothingWritten = () => {
  expect(h.puts).toEqual([]);
  expect(h.removes).toEqual([]);
  expect(h.ensured).toEqual([]);
  expect(h.out).toEqual([]);
};

/** An endpoint already on the topic, sealed with KEY. */
function existing(overrides: Partial<EndpointConfig> = {}, id = "ep_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"): EndpointConfig {
  const { config } = registerEndpoint(
    { organizationUuid: ORG, url: "https://example.com/hooks", eventTypes: ["kyc.*"] },
    { secretBox: SecretBox.fromBase64Key(KEY), now: NOW - 10 * HOUR_MS, urlPolicy: { allowHttp: false, allowLoopback: false, allowPrivate: false }, newEndpointId: () => id },
  );
  const endpoint = { ...config, ...overrides };
  h.endpoints.set(endpoint.endpointId, endpoint);
  return endpoint;
}

const DEFAULT_TOPICS = pipelineTopicSpecs({
  naming: { prefix: "novatrade.webhooks.", domainTopic: "novatrade.events" },
  partitions: 6,
  deliveryTopicPartitions: 1,
  retrySchedule: DEFAULT_RETRY_SCHEDULE,
});

describe("endpoint add", () => {
  it("ensures the pipeline topics, publishes the endpoint and prints it with its secret, once", async () => {
    expect(await run("add", "--org", ORG, "--url", "https://example.com/hooks", "--types", "kyc.*, compliance.status_changed")).toBe(EXIT_OK);

    expect(h.ensured).toEqual([DEFAULT_TOPICS]);
    expect(h.puts).toHaveLength(1);
    const config = h.puts[0]!;
    expect(config).toMatchObject({
      endpointId: "ep_0123456789abcdef0123456789abcdef",
      organizationUuid: ORG,
      url: "https://example.com/hooks",
      eventTypes: ["kyc.*", "compliance.status_changed"],
      partnerIds: null,
      acceptedSchemaVersions: [1],
      status: "ACTIVE",
      maxInFlight: 10,
      revision: 1,
      createdAt: NOW,
    });

    const output = printed();
    expect(Object.keys(output).slice(0, 2)).toEqual(["endpointId", "secret"]);
    expect(output.secret).toMatch(/^whsec_/);
    // The record holds the secret sealed; what was printed is what the senders will sign with.
    expect(SecretBox.fromBase64Key(KEY).open(config.secrets[0]!.ciphertext, config.endpointId)).toBe(output.secret);
    const { secret: _secret, ...rest } = output;
    expect(rest).toEqual({ ...config, secrets: [{ secretId: config.secrets[0]!.secretId, notBefore: NOW, expiresAt: null }] });
    expect(h.out[0]).not.toContain("ciphertext");
    expect(h.out[0]).not.toContain(config.secrets[0]!.ciphertext);

    expect(h.started).toBe(0);
    expect(h.closed).toBe(1);
    expect(h.err).toEqual([]);
  });

  it("passes every option through, and the environment decides topics, partitions and clients", async () => {
    h.context.env = {
      ENDPOINT_SECRETS_KEY: KEY,
      TOPIC_PREFIX: "it.x.",
      DOMAIN_TOPIC: "it.x.events",
      TOPIC_PARTITIONS: "3",
      DELIVERY_TOPIC_PARTITIONS: "2",
      RETRY_SCHEDULE: "1s,2s,2s",
      KAFKA_BROKERS: "k1:9092,k2:9092",
      SCHEMA_REGISTRY_URL: "http://registry:8081",
      LOG_LEVEL: "debug",
      SCHEMAS_DIR: "/schemas",
    };
    const code = await run(
      "add", "--org", ORG.toUpperCase(), "--url", "https://example.com/a", "--types", "kyc.*", "--partners", `${PARTNER},${OTHER_ORG}`,
      "--versions", "1,2", "--description", "ERP sync", "--max-in-flight", "3",
    );
    expect(code).toBe(EXIT_OK);
    expect(h.puts[0]).toMatchObject({
      organizationUuid: ORG,
      partnerIds: [PARTNER, OTHER_ORG],
      acceptedSchemaVersions: [1, 2],
      description: "ERP sync",
      maxInFlight: 3,
    });
    expect(h.opened).toEqual([
      {
        kafkaBrokers: ["k1:9092", "k2:9092"],
        schemaRegistryUrl: "http://registry:8081",
        logLevel: "debug",
        schemasDirectory: "/schemas",
        naming: { prefix: "it.x.", domainTopic: "it.x.events" },
        deliveryTopicPartitions: 2,
      },
    ]);
    const naming = { prefix: "it.x.", domainTopic: "it.x.events" };
    expect(h.ensured).toEqual([pipelineTopicSpecs({ naming, partitions: 3, deliveryTopicPartitions: 2, retrySchedule: parseRetrySchedule("1s,2s,2s") })]);
  });

  it("logs at warn unless LOG_LEVEL is set", async () => {
    expect(await run("add", "--org", ORG, "--url", "https://example.com/a", "--types", "kyc.*")).toBe(EXIT_OK);
    expect(h.opened[0]!.logLevel).toBe("warn");
  });

  it.each([
    ["http and loopback", { ENDPOINT_ALLOW_HTTP: "true", ENDPOINT_ALLOW_LOOPBACK: "true" }, "http://127.0.0.1:8080/hook"],
    ["localhost", { ENDPOINT_ALLOW_HTTP: "1", ENDPOINT_ALLOW_LOOPBACK: "1" }, "http://localhost:8080/hook"],
    ["a private network", { ENDPOINT_ALLOW_PRIVATE: "true" }, "https://10.1.2.3/hook"],
  ])("the URL policy comes from the environment: %s", async (_name, env, url) => {
    const args = ["add", "--org", ORG, "--url", url, "--types", "kyc.*"];
    expect(await run(...args)).toBe(EXIT_INVALID_INPUT);
    expect(stderrLine()).toMatch(/url: .*\(from --url\)/);
    h.err.length = 0;
    h.context.env = { ...h.context.env, ...env };
    expect(await run(...args)).toBe(EXIT_OK);
    expect(h.puts[0]!.url).toBe(new URL(url).toString());
  });

  const invalid: Array<[string, string[], RegExp]> = [
    ["the root wildcard", ["--types", "*"], /^endpoint add: invalid input: eventTypes\[0\]: the root wildcard "\*" is not allowed.*\(from --types\); nothing written$/],
    ["an unknown type", ["--types", "kyc.*,kyc.nope"], /eventTypes\[1\]: unknown event type "kyc\.nope".*--types/],
    ["an unknown domain", ["--types", "billing.*"], /eventTypes\[0\]: unknown event domain.*--types/],
    ["an empty type", ["--types", "kyc.*,"], /eventTypes\[1\]: .*--types/],
    ["an organization that is not a UUID", ["--org", "acme"], /organizationUuid: must be a UUID \(from --org\)/],
    ["a URL that is not https", ["--url", "http://example.com/a"], /url: must use https \(from --url\)/],
    ["a URL with credentials", ["--url", "https://user:pw@example.com/a"], /url: must not contain credentials.*--url/],
    ["a partner that is not a UUID", ["--partners", `${PARTNER},x`], /partnerIds\[1\]: must be a UUID \(from --partners\)/],
    ["a version that is not a number", ["--versions", "1,two"], /acceptedSchemaVersions\[1\]: must be a positive integer \(from --versions\)/],
    ["a version zero", ["--versions", "0"], /acceptedSchemaVersions\[0\]: .*--versions/],
    ["too many in flight", ["--max-in-flight", "500"], /maxInFlight: must be an integer from 1 to 200 \(from --max-in-flight\)/],
    ["a long description", ["--description", "x".repeat(501)], /description: .*--description/],
  ];

  it.each(invalid)("%s: exit 2, one line naming the field, nothing opened or written", async (_name, override, pattern) => {
    const options = new Map<string, string>([["--org", ORG], ["--url", "https://example.com/a"], ["--types", "kyc.*"]]);
    for (let i = 0; i < override.length; i += 2) options.set(override[i]!, override[i + 1]!);
    expect(await run("add", ...[...options].flat())).toBe(EXIT_INVALID_INPUT);
    expect(stderrLine()).toMatch(pattern);
    expect(h.opened).toEqual([]);
    nothingWritten();
  });

  it.each([
    ["missing", {}, /^endpoint add: ENDPOINT_SECRETS_KEY: is required/],
    ["empty", { ENDPOINT_SECRETS_KEY: "" }, /ENDPOINT_SECRETS_KEY: is required/],
    ["the wrong size", { ENDPOINT_SECRETS_KEY: Buffer.alloc(16).toString("base64") }, /ENDPOINT_SECRETS_KEY: must be 32 bytes/],
  ])("ENDPOINT_SECRETS_KEY %s: exit 2 naming the variable, nothing opened", async (_name, env, pattern) => {
    h.context.env = env;
    expect(await run("add", "--org", ORG, "--url", "https://example.com/a", "--types", "kyc.*")).toBe(EXIT_INVALID_INPUT);
    expect(stderrLine()).toMatch(pattern);
    expect(h.opened).toEqual([]);
  });

  it.each(["ENDPOINT_ALLOW_HTTP", "TOPIC_PARTITIONS", "RETRY_SCHEDULE"])("a bad %s: exit 2 naming it", async (variable) => {
    h.context.env = { ENDPOINT_SECRETS_KEY: KEY, [variable]: "yes" };
    expect(await run("add", "--org", ORG, "--url", "https://example.com/a", "--types", "kyc.*")).toBe(EXIT_INVALID_INPUT);
    expect(stderrLine()).toMatch(new RegExp(variable));
    expect(h.opened).toEqual([]);
  });

  it("a Kafka failure: exit 1 with the message, no secret printed, connections closed", async () => {
    h.putError = Object.assign(new Error("produce to novatrade.webhooks.endpoint-config failed: Connection error"), { name: "KafkaError" });
    expect(await run("add", "--org", ORG, "--url", "https://example.com/a", "--types", "kyc.*")).toBe(EXIT_INFRASTRUCTURE);
    expect(stderrLine()).toBe("endpoint add: failed: KafkaError: produce to novatrade.webhooks.endpoint-config failed: Connection error");
    expect(h.out).toEqual([]);
    expect(h.closed).toBe(1);
  });
});

describe("endpoint list", () => {
  it("prints every endpoint without the sealed secrets, by organization then age", async () => {
    const newer = existing({ createdAt: NOW - HOUR_MS }, "ep_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    const older = existing({}, "ep_cccccccccccccccccccccccccccccccc");
    const foreign = existing({ organizationUuid: OTHER_ORG }, "ep_dddddddddddddddddddddddddddddddd");

    expect(await run("list")).toBe(EXIT_OK);
    const { endpoints } = printed() as { endpoints: Array<Record<string, unknown>> };
    expect(endpoints.map((e) => e.endpointId)).toEqual([foreign.endpointId, older.endpointId, newer.endpointId]);
    expect(endpoints[1]).toEqual({ ...older, secrets: [{ secretId: older.secrets[0]!.secretId, notBefore: older.secrets[0]!.notBefore, expiresAt: null }] });
    expect(h.out[0]).not.toContain("ciphertext");
    expect(h.started).toBe(1);
    expect(h.stopped).toBe(1);
    expect(h.closed).toBe(1);
    expect(h.ensured).toEqual([]);
  });

  it("--org limits the list to one organization, whatever its case", async () => {
    existing({}, "ep_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    existing({ organizationUuid: OTHER_ORG }, "ep_dddddddddddddddddddddddddddddddd");
    expect(await run("list", "--org", OTHER_ORG.toUpperCase())).toBe(EXIT_OK);
    expect((printed().endpoints as Array<{ endpointId: string }>).map((e) => e.endpointId)).toEqual(["ep_dddddddddddddddddddddddddddddddd"]);
  });

  it("an empty topic is an empty list", async () => {
    expect(await run("list")).toBe(EXIT_OK);
    expect(printed()).toEqual({ endpoints: [] });
  });

  it("does not need ENDPOINT_SECRETS_KEY", async () => {
    h.context.env = {};
    expect(await run("list")).toBe(EXIT_OK);
  });

  it("--org that is not a UUID: exit 2, nothing opened", async () => {
    expect(await run("list", "--org", "acme")).toBe(EXIT_INVALID_INPUT);
    expect(stderrLine()).toMatch(/organizationUuid: must be a UUID \(from --org\)/);
    expect(h.opened).toEqual([]);
  });

  it("a view that never catches up: exit 1 after the timeout, the view stopped", async () => {
    h.startHangs = true;
    h.context.directoryTimeoutMs = 20;
    expect(await run("list")).toBe(EXIT_INFRASTRUCTURE);
    expect(stderrLine()).toMatch(/^endpoint list: failed: Error: reading the endpoint-configuration topic took longer than 20 ms$/);
    expect(h.stopped).toBe(1);
    expect(h.closed).toBe(1);
  });
});

describe("endpoint pause, resume, disable", () => {
  it.each([
    ["pause", "ACTIVE", "PAUSED"],
    ["resume", "PAUSED", "ACTIVE"],
    ["resume", "DISABLED", "ACTIVE"],
    ["disable", "ACTIVE", "DISABLED"],
    ["disable", "PAUSED", "DISABLED"],
  ] as const)("%s of a %s endpoint publishes a new revision %s", async (command, from, to) => {
    const endpoint = existing({ status: from });
    expect(await run(command, endpoint.endpointId)).toBe(EXIT_OK);
    expect(h.ensured).toEqual([DEFAULT_TOPICS]);
    expect(h.puts).toEqual([{ ...endpoint, status: to, updatedAt: NOW, revision: endpoint.revision + 1 }]);
    expect(printed()).toMatchObject({ endpointId: endpoint.endpointId, status: to, revision: endpoint.revision + 1 });
    expect(h.out[0]).not.toContain("ciphertext");
    expect(h.started).toBe(1);
    expect(h.stopped).toBe(1);
  });

  it("does not need ENDPOINT_SECRETS_KEY", async () => {
    h.context.env = {};
    const endpoint = existing();
    expect(await run("pause", endpoint.endpointId)).toBe(EXIT_OK);
  });

  it("a status the endpoint already has: nothing written, the endpoint printed", async () => {
    const endpoint = existing({ status: "PAUSED" });
    expect(await run("pause", endpoint.endpointId)).toBe(EXIT_OK);
    expect(h.puts).toEqual([]);
    expect(printed()).toMatchObject({ endpointId: endpoint.endpointId, status: "PAUSED", revision: endpoint.revision });
  });

  it("pausing a disabled endpoint is refused: it would start routing to it again", async () => {
    const endpoint = existing({ status: "DISABLED" });
    expect(await run("pause", endpoint.endpointId)).toBe(EXIT_INVALID_INPUT);
    expect(stderrLine()).toMatch(/status: endpoint ep_a+ is DISABLED; resume it first/);
    nothingWritten();
  });

  it("never moves updatedAt backwards when this machine's clock is behind", async () => {
    const endpoint = existing({ updatedAt: NOW + 5_000 });
    expect(await run("pause", endpoint.endpointId)).toBe(EXIT_OK);
    expect(h.puts[0]!.updatedAt).toBe(NOW + 5_000);
  });

  it.each(["pause", "resume", "disable", "delete", "rotate-secret"])("%s of an unknown endpoint: exit 2, nothing written", async (command) => {
    existing();
    expect(await run(command, "ep_unknown")).toBe(EXIT_INVALID_INPUT);
    expect(stderrLine()).toBe(`endpoint ${command}: invalid input: endpointId: no endpoint ep_unknown; nothing written`);
    nothingWritten();
    expect(h.stopped).toBe(1);
    expect(h.closed).toBe(1);
  });

  it("an endpoint whose deletion the view read is reported as deleted", async () => {
    h.deleted.add("ep_gone");
    expect(await run("resume", "ep_gone")).toBe(EXIT_INVALID_INPUT);
    expect(stderrLine()).toMatch(/endpointId: endpoint ep_gone was deleted/);
    nothingWritten();
  });
});

describe("endpoint changes are compare-and-set on the revision", () => {
  it("a rotate-secret racing a pause: the pause came first, so the rotation exits 3 and prints no secret", async () => {
    const endpoint = existing();
    h.racingWrite = { ...endpoint, status: "PAUSED", revision: endpoint.revision + 1, updatedAt: NOW };
    expect(await run("rotate-secret", endpoint.endpointId)).toBe(EXIT_CONFLICT);
    expect(h.out).toEqual([]);
    expect(stderrLine()).toBe(
      `endpoint rotate-secret: endpoint ${endpoint.endpointId} changed concurrently (expected revision 1, now 2); this change was not applied, retry`,
    );
    // What readers hold: the pause, not a rotation whose secret nobody was shown.
    expect(h.endpoints.get(endpoint.endpointId)).toMatchObject({ status: "PAUSED", revision: 2, secrets: endpoint.secrets });
  });

  it("a pause racing a rotation exits 3 and leaves the rotation in place", async () => {
    const endpoint = existing();
    const rotation = { ...endpoint, secrets: [...endpoint.secrets, { ...endpoint.secrets[0]!, secretId: "sec_other" }], revision: endpoint.revision + 1 };
    h.racingWrite = rotation;
    expect(await run("pause", endpoint.endpointId)).toBe(EXIT_CONFLICT);
    expect(stderrLine()).toMatch(/changed concurrently \(expected revision 1, now 2\).*retry/);
    expect(h.endpoints.get(endpoint.endpointId)).toEqual(rotation);
  });
});

describe("endpoint rotate-secret", () => {
  it("adds a secret, keeps the current one for the overlap, and prints the new one once", async () => {
    const endpoint = existing();
    expect(await run("rotate-secret", endpoint.endpointId, "--overlap-hours", "2")).toBe(EXIT_OK);

    expect(h.ensured).toEqual([DEFAULT_TOPICS]);
    expect(h.puts).toHaveLength(1);
    const rotated = h.puts[0]!;
    expect(rotated.revision).toBe(endpoint.revision + 1);
    expect(rotated.secrets).toHaveLength(2);
    expect(rotated.secrets[0]).toEqual({ ...endpoint.secrets[0], expiresAt: NOW + 2 * HOUR_MS });
    const output = printed();
    expect(Object.keys(output).slice(0, 3)).toEqual(["endpointId", "secretId", "secret"]);
    expect(output.secretId).toBe(rotated.secrets[1]!.secretId);
    expect(SecretBox.fromBase64Key(KEY).open(rotated.secrets[1]!.ciphertext, endpoint.endpointId)).toBe(output.secret);
    expect(SecretBox.fromBase64Key(KEY).open(endpoint.secrets[0]!.ciphertext, endpoint.endpointId)).not.toBe(output.secret);
    expect(h.out[0]).not.toContain("ciphertext");
  });

  it("overlaps for 24 hours by default; 0 retires the current secret at once", async () => {
    const endpoint = existing();
    expect(await run("rotate-secret", endpoint.endpointId)).toBe(EXIT_OK);
    expect(h.puts[0]!.secrets[0]!.expiresAt).toBe(NOW + 24 * HOUR_MS);
    expect(await run("rotate-secret", endpoint.endpointId, "--overlap-hours", "0")).toBe(EXIT_OK);
    expect(h.puts[1]!.secrets[0]!.expiresAt).toBe(NOW);
  });

  it("a key that does not open the current secrets is refused: the senders could not sign with the new one", async () => {
    const endpoint = existing();
    h.context.env = { ENDPOINT_SECRETS_KEY: OTHER_KEY };
    expect(await run("rotate-secret", endpoint.endpointId)).toBe(EXIT_INVALID_INPUT);
    expect(stderrLine()).toMatch(/^endpoint rotate-secret: ENDPOINT_SECRETS_KEY: does not open the current secrets of ep_a+/);
    nothingWritten();
  });

  it("without ENDPOINT_SECRETS_KEY: exit 2 naming it, nothing opened", async () => {
    h.context.env = {};
    expect(await run("rotate-secret", existing().endpointId)).toBe(EXIT_INVALID_INPUT);
    expect(stderrLine()).toMatch(/ENDPOINT_SECRETS_KEY: is required/);
    expect(h.opened).toEqual([]);
  });
});

describe("endpoint delete", () => {
  it("writes a tombstone", async () => {
    const endpoint = existing();
    expect(await run("delete", endpoint.endpointId)).toBe(EXIT_OK);
    expect(h.removes).toEqual([endpoint.endpointId]);
    expect(h.puts).toEqual([]);
    expect(printed()).toEqual({ endpointId: endpoint.endpointId, deleted: true });
  });
});

describe("endpoint command line", () => {
  const usage: Array<[string, string[], RegExp]> = [
    ["no command", [], /Usage: endpoint/],
    ["an unknown command", ["remove", "ep_1"], /unknown command 'remove'/],
    ["add without --types", ["add", "--org", ORG, "--url", "https://example.com/a"], /--types/],
    ["add with a --max-in-flight that is not a number", ["add", "--org", ORG, "--url", "https://e.com/", "--types", "kyc.*", "--max-in-flight", "ten"], /--max-in-flight/],
    ["pause without an id", ["pause"], /missing required argument 'endpointId'/],
    ["an --overlap-hours out of range", ["rotate-secret", "ep_1", "--overlap-hours", "1000"], /--overlap-hours.*from 0 to 720/],
    ["an --overlap-hours that is not a number", ["rotate-secret", "ep_1", "--overlap-hours", "-1"], /--overlap-hours/],
    ["an unknown option", ["list", "--colour"], /--colour/],
  ];

  it.each(usage)("usage error, %s: exit 2 with commander's message", async (_name, argv, pattern) => {
    expect(await run(...argv)).toBe(EXIT_INVALID_INPUT);
    expect(h.err.join("")).toMatch(pattern);
    expect(h.opened).toEqual([]);
  });

  it.each([[["--help"]], [["add", "--help"]], [["help", "rotate-secret"]]])("%j prints help to stdout and exits 0", async (argv) => {
    expect(await run(...argv)).toBe(EXIT_OK);
    expect(h.out.join("")).toMatch(/Usage: endpoint/);
    expect(h.opened).toEqual([]);
  });
});
