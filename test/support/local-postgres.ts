import { execFile } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { infraEnv } from "./infra-env.js";

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * Stops and starts the PostgreSQL that `scripts/infra.sh up` runs on this machine, for tests of
 * an outage. Only that local cluster: a database the environment points elsewhere is never
 * touched (`isLocal()` is false and such tests are skipped).
 */
export const localPostgres = {
  dataDirectory(): string | null {
    const link = path.join(root, ".local", "postgres");
    if (!existsSync(link)) return null;
    const data = path.join(realpathSync(link), "data");
    return existsSync(path.join(data, "PG_VERSION")) ? data : null;
  },

  isLocal(): boolean {
    const port = new URL(infraEnv.databaseUrl).port;
    return this.dataDirectory() !== null && port === (process.env.INFRA_PG_PORT ?? "15432");
  },

  async pgCtl(...args: string[]): Promise<void> {
    const { stdout } = await run("bash", ["-c", "ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1"]);
    const pgCtl = path.join(stdout.trim(), "pg_ctl");
    const command = process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", pgCtl, ...args]] : [pgCtl, args];
    await run(command[0] as string, command[1] as string[]);
  },

  /** Fast shutdown: open connections are cut, as in a crash of the database host. */
  async stop(): Promise<void> {
    await this.pgCtl("-D", this.dataDirectory()!, "-m", "fast", "-w", "stop");
  },

  /** Starts it again the way `make infra-up` does (the other components are left as they are). */
  async start(): Promise<void> {
    const env = { ...process.env };
    // infra.sh leaves a component alone when its variable points at it: here we want it started.
    delete env.DATABASE_URL;
    delete env.KAFKA_BROKERS;
    delete env.SCHEMA_REGISTRY_URL;
    await run(path.join(root, "scripts", "infra.sh"), ["up"], { env, cwd: root });
    await this.waitForRegistry();
  },

  /**
   * The registry keeps its schemas in this PostgreSQL, and its pool still holds connections the
   * restart cut: each fails one request before it is replaced. Asks until a run of requests in
   * a row succeed, so the tests after this one find a registry that answers.
   */
  async waitForRegistry(): Promise<void> {
    const deadline = Date.now() + 60_000;
    let inARow = 0;
    while (inARow < 15) {
      if (Date.now() > deadline) throw new Error("the schema registry did not recover after the PostgreSQL restart");
      const response = await fetch(`${infraEnv.schemaRegistryUrl}/subjects`).catch(() => null);
      inARow = response?.ok ? inARow + 1 : 0;
    }
  },
};
