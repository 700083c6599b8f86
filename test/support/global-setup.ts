import { connect } from "node:net";
import { loadSchemaCatalogue, registerSchemas } from "@novatrade/event-codec";
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

/**
 * Integration tests need the real broker, registry and database. `make test` starts them; a
 * developer running vitest directly gets told how instead of a wall of connection errors.
 */
export default async function globalSetup(): Promise<void> {
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
}
