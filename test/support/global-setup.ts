import { connect } from "node:net";
import { pino } from "pino";
import { Registry } from "prom-client";
import { loadSchemaCatalogue, registerSchemas } from "@novatrade/event-codec";
import { createKafka, type KafkaClient } from "@novatrade/kafka";
import { infraEnv } from "./infra-env.js";

function reachable(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.replace(/^\w+:\/\//, "").split("/")[0]!.split(":");
  return new Promise((resolve) => {
    const socket = connect({ host: host!, port: Number(port) });
    socket.setTimeout(3_000);
    socket.once("connect", () => { socket.destroy(); resolve(true); });
    socket.once("timeout", () => { socket.destroy(); resolve(false); });
    socket.once("error", () => resolve(false));
  });
}

/** Names of the topics tests and benchmarks make (random prefixes under these). */
const TEST_TOPIC = /^(it[.-]|bench[.-])/;

function cleanupClient(): KafkaClient {
  return createKafka({ brokers: infraEnv.kafkaBrokers, clientId: "test-run-cleanup", logger: pino({ level: "silent" }), registry: new Registry(), metricsPrefix: "test_cleanup_" });
}

/**
 * The test topics this run made, deleted when it ends: without it a developer's broker grows by
 * hundreds of partitions per run until everything on it slows down. Topics that existed
 * before the run are left alone (another run may be using them; `scripts/infra.sh
 * prune-test-topics` clears old ones).
 */
async function deleteTopicsMadeSince(before: Set<string>): Promise<void> {
  const kafka = cleanupClient();
  try {
    const made = (await kafka.admin.listTopics()).filter((topic) => TEST_TOPIC.test(topic) && !before.has(topic));
    for (let i = 0; i < made.length; i += 200) await kafka.admin.deleteTopics(made.slice(i, i + 200));
  } finally {
    await kafka.disconnect();
  }
}

/**
 * Integration tests need the real broker, registry and database. `make test` starts them; a
 * developer running vitest directly gets told how instead of a wall of connection errors.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  const registryHostPort = new URL(infraEnv.schemaRegistryUrl).host;
  const databaseHostPort = new URL(infraEnv.databaseUrl).host;
  const checks = [
    ["Kafka", infraEnv.kafkaBrokers[0]!],
    ["schema registry", registryHostPort],
    ["PostgreSQL", databaseHostPort],
  ] as const;
  const missing: string[] = [];
  for (const [name, hostPort] of checks) {
    if (!(await reachable(hostPort))) missing.push(`${name} at ${hostPort}`);
  }
  if (missing.length > 0) {
    throw new Error(`integration tests need ${missing.join(", ")}: run \`make infra-up\` first (or set KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL)`);
  }
  // The real subjects, as `make schemas` registers them; idempotent, so a warm registry is quick.
  await registerSchemas(infraEnv.schemaRegistryUrl, await loadSchemaCatalogue());

  const kafka = cleanupClient();
  const before = new Set(await kafka.admin.listTopics().finally(() => kafka.disconnect()));
  return () =>
    deleteTopicsMadeSince(before).catch((error: unknown) => {
      // Clean-up must not turn a green run red; the topics can be pruned later.
      console.warn(`could not delete this run's test topics (scripts/infra.sh prune-test-topics will): ${String(error)}`);
    });
}
