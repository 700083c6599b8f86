import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { TEST_SECRETS_KEY } from "../support/pipeline.js";
import { descendants, freePort, survivors } from "../support/process-tree.js";
import { runProgram } from "../support/run-program.js";
import { waitUntil } from "../support/wait-until.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * `make run` as a real process tree (make → scripts/run.sh → four services and Prometheus), on
 * topics and ports of its own: it comes up healthy, `make demo`'s script gets all ten event
 * types delivered and verified through it, and a SIGTERM to `make` itself stops every process
 * of the tree: none is left running.
 */
describe("make run and make demo", () => {
  let make: ChildProcess | undefined;
  const output: string[] = [];

  afterAll(() => {
    // Only if the test failed half-way: never leave the tree running.
    if (make && make.exitCode === null && make.signalCode === null) process.kill(-make.pid!, "SIGKILL");
  });

  /** make run's environment on topics and ports of its own. */
  async function runEnv(): Promise<Record<string, string>> {
    const prefix = `it.run.${randomUUID().slice(0, 8)}.`;
    return {
      TOPIC_PREFIX: prefix,
      DOMAIN_TOPIC: `${prefix}events`,
      TOPIC_PARTITIONS: "2",
      RETRY_SCHEDULE: "1s,1s,1s,1s,1s,1s,1s,1s,1s",
      ENDPOINT_SECRETS_KEY: TEST_SECRETS_KEY,
      ROUTER_OPS_PORT: String(await freePort()),
      SENDER_OPS_PORT: String(await freePort()),
      PROJECTOR_OPS_PORT: String(await freePort()),
      ADMIN_OPS_PORT: String(await freePort()),
      // make demo reaches the admin API on the same port make run gave it.
      ADMIN_HTTP_PORT: String(await freePort()),
      PROMETHEUS_PORT: String(await freePort()),
      SENDER_TOPIC_REFRESH_MS: "1000",
      KAFKA_SESSION_TIMEOUT_MS: "6000",
    };
  }

  test("starts healthy, delivers the demo's ten types, and a SIGTERM to make leaves no process behind", async () => {
    const env = await runEnv();
    // detached: make leads a process group of its own, so the test can find every member.
    make = spawn("make", ["--no-print-directory", "run"], { cwd: root, env: { ...process.env, ...env }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<number | null>((resolve) => make!.once("exit", (code) => resolve(code)));
    for (const stream of [make.stdout!, make.stderr!]) {
      stream.setEncoding("utf8").on("data", (chunk: string) => output.push(...chunk.split("\n").filter((line) => line.length > 0)));
    }
    // The banner's last line: the lines before it (where things are) are all printed by then.
    await waitUntil(
      () => {
        if (make!.exitCode !== null) throw new Error(`make run exited with ${make!.exitCode} before reporting healthy; last output:\n${output.slice(-30).join("\n")}`);
        return output.some((line) => line.includes("[run] Ctrl-C (or SIGTERM to make run) stops everything"));
      },
      { timeoutMs: 240_000, what: "make run to report every service healthy" },
    );
    // Where things are, printed for the newcomer.
    expect(output.join("\n")).toContain(`http://127.0.0.1:${env.ROUTER_OPS_PORT}/metrics`);
    expect(output.join("\n")).toContain(`http://127.0.0.1:${env.PROMETHEUS_PORT}`);
    expect(output.join("\n")).toContain(".local/logs/run.log");

    const demo = await runProgram(path.join(root, "scripts/demo.sh"), [], { cwd: root, env: { ...env, DEMO_PROBE_INTERVAL_MS: "1000" } });
    expect(demo.stdout, demo.stderr).toContain("all 10 event types delivered, signed and verified (0 refused)");
    expect(demo.code).toBe(0);

    // Not a terminal: the services' lines are the JSON they write, one object per line.
    const serviceLines = output.filter((line) => line.startsWith("{"));
    expect(serviceLines.length).toBeGreaterThan(0);
    for (const line of serviceLines) expect(JSON.parse(line)).toHaveProperty("service");

    const tree = descendants(make.pid!);
    const commands = tree.map((row) => row.command).join("\n");
    for (const service of ["router", "sender", "projector", "admin"]) expect(commands).toContain(`services/${service}/dist/main.js`);
    expect(commands).toContain("prometheus --config.file");

    process.kill(make.pid!, "SIGTERM");
    await exited;
    expect(survivors(tree.map((row) => row.pid), make.pid!)).toEqual([]);
    // Each service stopped cleanly rather than being killed.
    for (const service of ["router", "sender", "projector", "admin"]) {
      expect(output.some((line) => line.includes(`"service":"${service}"`) && line.includes('"msg":"stopped"'))).toBe(true);
    }
    expect(output).toContain("[run] stopped");
  }, 420_000);

  test("on a terminal the logs are human-readable, and Ctrl-C stops everything", async () => {
    const env = await runEnv();
    // `script` gives run.sh a pseudo-terminal as its standard output, as a person's shell would.
    const terminal = spawn("script", ["-qefc", path.join(root, "scripts/run.sh"), "/dev/null"], {
      cwd: root,
      env: { ...process.env, ...env },
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let screen = "";
    terminal.stdout!.setEncoding("utf8").on("data", (chunk: string) => (screen += chunk));
    const exited = new Promise<void>((resolve) => terminal.once("exit", () => resolve()));
    try {
      await waitUntil(
        () => {
          // run.sh gave up (a service failed its start): say what it printed, do not wait on.
          if (terminal.exitCode !== null) throw new Error(`run.sh on a terminal exited with ${terminal.exitCode} before reporting healthy:\n${screen.slice(-3000)}`);
          return screen.includes("[run] Novatrade Webhooks is running");
        },
        { timeoutMs: 240_000, what: "run.sh on a terminal to report every service healthy" },
      );
      const plain = screen.replace(/\x1b\[[0-9;]*m/g, "");
      for (const service of ["router", "sender", "projector", "admin"]) expect(plain).toMatch(new RegExp(`\\] INFO: ${service} started`));
      expect(plain).not.toContain('{"level"');
      const tree = descendants(terminal.pid!);
      expect(tree.some((row) => row.command.includes("scripts/run.sh"))).toBe(true);
      // Ctrl-C typed on the terminal: the terminal sends SIGINT to its whole foreground group.
      terminal.stdin!.write("\x03");
      await exited;
      const after = screen.replace(/\x1b\[[0-9;]*m/g, "");
      expect(after).toContain('reason: "SIGINT"');
      for (const service of ["router", "sender", "projector", "admin"]) expect(after).toMatch(new RegExp(`\\] INFO: ${service} stopped`));
      expect(after).toContain("[run] stopped");
      expect(survivors(tree.map((row) => row.pid), terminal.pid!)).toEqual([]);
    } finally {
      if (terminal.exitCode === null && terminal.signalCode === null) process.kill(-terminal.pid!, "SIGKILL");
    }
  }, 420_000);
});
