import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { pino } from "pino";
import { Registry } from "prom-client";
import { describe, expect, test } from "vitest";
import { createKafka } from "@novatrade/kafka";
import { infraEnv } from "../support/infra-env.js";
import { waitUntil } from "../support/wait-until.js";

/*
 * scripts/infra.sh against the infrastructure this test run uses. Only what leaves it running:
 * `status` and `env` (stopping it would stop the test run's own broker).
 */

const INFRA = fileURLToPath(new URL("../../scripts/infra.sh", import.meta.url));

async function infra(args: string[], env: NodeJS.ProcessEnv = process.env, script = INFRA): Promise<string> {
  const { stdout } = await promisify(execFile)(script, args, { env, timeout: 60_000 });
  return stdout;
}

/** The environment without the connection variables, as a fresh shell has it. */
function withoutConnectionVariables(): NodeJS.ProcessEnv {
  const { KAFKA_BROKERS: _k, SCHEMA_REGISTRY_URL: _s, DATABASE_URL: _d, ...rest } = process.env;
  return rest;
}

const localStatus = await infra(["status"], withoutConnectionVariables()).catch(() => "");
const allLocal = ["kafka", "registry", "postgres"].every((name) => new RegExp(`^${name}: running on`, "m").test(localStatus));

describe.skipIf(!allLocal)("scripts/infra.sh (local infrastructure)", () => {
  test("sourcing `infra.sh env` does not turn local infrastructure into 'external' (so `down` still stops it)", async () => {
    const sourced: NodeJS.ProcessEnv = { ...withoutConnectionVariables() };
    for (const line of (await infra(["env"], withoutConnectionVariables())).trim().split("\n")) {
      const [name, ...value] = line.split("=");
      sourced[name!] = value.join("=");
    }
    expect(Object.keys(sourced)).toEqual(expect.arrayContaining(["KAFKA_BROKERS", "SCHEMA_REGISTRY_URL", "DATABASE_URL"]));

    const status = await infra(["status"], sourced);
    expect(status).toMatch(/^kafka: running on/m);
    expect(status).toMatch(/^registry: running on/m);
    expect(status).toMatch(/^postgres: running on/m);
    expect(status).not.toMatch(/external/);
  });

  test("`status` reports how many topics and partitions the broker holds", async () => {
    const counts = async () => {
      const match = /^kafka: running on .*, (\d+) topics, (\d+) partitions$/m.exec(await infra(["status"]));
      expect(match, "status names the topic and partition counts").not.toBeNull();
      return { topics: Number(match![1]), partitions: Number(match![2]) };
    };
    const before = await counts();
    const kafka = createKafka({ brokers: infraEnv.kafkaBrokers, clientId: "infra-script-test", logger: pino({ level: "silent" }), registry: new Registry(), metricsPrefix: "test_kafka_" });
    const topic = `it.${randomUUID().slice(0, 8)}.counted`;
    try {
      await kafka.admin.ensureTopics([{ topic, partitions: 3 }]);
      await waitUntil(async () => {
        const now = await counts();
        return now.topics === before.topics + 1 && now.partitions === before.partitions + 3;
      }, { what: "status to count the new topic" });
      await kafka.admin.deleteTopics([topic]);
      await waitUntil(async () => (await counts()).topics === before.topics, { what: "status to stop counting the deleted topic" });
    } finally {
      await kafka.disconnect();
    }
  });
});

describe("scripts/infra.sh cluster mode (a copy of the script, so nothing of this run's infrastructure is touched)", () => {
  /** Runs `infra.sh env` from a scratch checkout holding only the script. */
  async function scratchEnv(env: NodeJS.ProcessEnv, runningNodes?: number) {
    const root = mkdtempSync(path.join(tmpdir(), "infra-cluster-"));
    mkdirSync(path.join(root, "scripts"));
    copyFileSync(INFRA, path.join(root, "scripts", "infra.sh"));
    if (runningNodes !== undefined) {
      mkdirSync(path.join(root, ".local", "run"), { recursive: true });
      writeFileSync(path.join(root, ".local", "run", "kafka.nodes"), `${runningNodes}\n`);
    }
    try {
      return await infra(["env"], { ...withoutConnectionVariables(), ...env }, path.join(root, "scripts", "infra.sh"));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }

  test("INFRA_KAFKA_CLUSTER=3 names three brokers, two ports apart", async () => {
    const env = await scratchEnv({ INFRA_KAFKA_CLUSTER: "3", INFRA_KAFKA_PORT: "40000" });
    expect(env).toMatch(/^KAFKA_BROKERS=127\.0\.0\.1:40000,127\.0\.0\.1:40002,127\.0\.0\.1:40004$/m);
    expect(await scratchEnv({ INFRA_KAFKA_PORT: "40000" })).toMatch(/^KAFKA_BROKERS=127\.0\.0\.1:40000$/m);
  });

  test("a running cluster's node count wins over the variable, so `down` and `env` need no flag repeated", async () => {
    expect(await scratchEnv({ INFRA_KAFKA_PORT: "40000" }, 3)).toMatch(/^KAFKA_BROKERS=127\.0\.0\.1:40000,127\.0\.0\.1:40002,127\.0\.0\.1:40004$/m);
  });

  test("a node count other than 1 or 3 is refused with exit 2", async () => {
    const failure = await scratchEnv({ INFRA_KAFKA_CLUSTER: "2" }).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toMatch(/INFRA_KAFKA_CLUSTER must be 1 or 3/);
  });
});
