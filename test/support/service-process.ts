import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A service running as its own process, from its compiled main.js, as in production. */
export interface ServiceProcess {
  name: string;
  /** Operating-system process id (benchmarks read its CPU time and memory from /proc). */
  pid: number;
  /** Lines the process wrote, stdout and stderr together. */
  output: string[];
  /** SIGKILL: no shutdown hook runs, nothing is committed or flushed. */
  kill(): Promise<void>;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts `services/<name>/dist/main.js` and resolves once it logged "started" (its consumers
 * joined their groups). Needs `tsc -b` first, which `make test` does.
 */
export async function startServiceProcess(name: string, env: Record<string, string>, timeoutMs = 90_000, nodeArgs: string[] = []): Promise<ServiceProcess> {
  const main = path.join(root, "services", name, "dist", "main.js");
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npx tsc -b\` (make test does) before the integration tests`);
  // nodeArgs: e.g. --cpu-prof (benchmarks; node refuses it in NODE_OPTIONS).
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, main], {
    cwd: root,
    env: { ...process.env, ...env, LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  let started = false;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in ${timeoutMs} ms:\n${output.slice(-20).join("\n")}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line.length === 0) continue;
        output.push(line);
        if (!started && line.includes('"msg":"started"')) {
          started = true;
          clearTimeout(timer);
          resolve();
        }
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      if (!started) {
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${code} before starting:\n${output.slice(-20).join("\n")}`));
      }
    });
  });
  return {
    name,
    pid: child.pid!,
    output,
    kill: async () => {
      child.kill("SIGKILL");
      await exited;
    },
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}
