import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { infraEnv } from "../../test/support/infra-env.js";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface LoadGeneratorSummary {
  sent: number;
  seconds: number;
  eventsPerSecond: number;
  /** The longest the generator itself fell behind its schedule (a tick's encode and produce). */
  maxBehindMs: number;
}

export interface LoadGenerator {
  pid: number;
  /** Resolves when the generator has sent for its whole duration (or was stopped). */
  done: Promise<LoadGeneratorSummary>;
  stop(): Promise<void>;
}

export interface LoadGeneratorOptions {
  domainTopic: string;
  organizations: string[];
  eventsPerSecond: number;
  durationMs: number;
  /** `data.reason` padded to this many characters (payload size). */
  reasonBytes?: number;
}

/** bench/load-generator.mjs in a process of its own: paced compliance.decision_made events. */
export function startLoadGenerator(options: LoadGeneratorOptions): LoadGenerator {
  const config = { brokers: infraEnv.kafkaBrokers, schemaRegistryUrl: infraEnv.schemaRegistryUrl, ...options };
  const child = spawn(process.execPath, [path.join(here, "..", "load-generator.mjs"), JSON.stringify(config)], { stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const done = exited.then((code) => {
    const last = output.join("").trim().split("\n").at(-1) ?? "";
    if (code !== 0) throw new Error(`load generator exited with ${code}:\n${output.join("").slice(-2000)}`);
    return JSON.parse(last) as LoadGeneratorSummary;
  });
  // Awaited by whoever calls `done`; without a handler a teardown-time failure would be unhandled.
  done.catch(() => undefined);
  return {
    pid: child.pid!,
    done,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
