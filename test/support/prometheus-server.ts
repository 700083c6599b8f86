import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./process-tree.js";
import { waitUntil } from "./wait-until.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A real Prometheus server (Debian's package, `make prometheus-install`) scraping loopback targets. */
export interface PrometheusServer {
  url: string;
  /** An instant query through the HTTP API; throws with Prometheus's error text when it fails. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  /** GET any API path (e.g. `/api/v1/rules`), returning its `data`. */
  api<T>(pathAndQuery: string): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Starts `prometheus` scraping `jobs` (job name → port on 127.0.0.1) every second, with the
 * project's alert rules loaded, and resolves once it is ready.
 */
export async function startPrometheus(jobs: Record<string, number>, ruleFiles: string[] = [path.join(root, "deploy/prometheus/rules/*.yml")]): Promise<PrometheusServer> {
  const directory = await mkdtemp(path.join(tmpdir(), "prometheus-test-"));
  const port = await freePort();
  const scrapeConfigs = Object.entries(jobs)
    .map(([job, target]) => `  - job_name: ${job}\n    static_configs: [{ targets: ["127.0.0.1:${target}"] }]`)
    .join("\n");
  const config = `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n${ruleFiles.map((file) => `  - ${file}`).join("\n")}\nscrape_configs:\n${scrapeConfigs}\n`;
  await writeFile(path.join(directory, "prometheus.yml"), config);
  const output: string[] = [];
  const child: ChildProcess = spawn(
    "prometheus",
    [`--config.file=${path.join(directory, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(directory, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("error", (error) => output.push(`could not start prometheus (make prometheus-install): ${error.message}`));
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    async () => {
      if (child.exitCode !== null || output.some((line) => line.includes("could not start"))) throw new Error(`prometheus exited:\n${output.join("")}`);
      return fetch(`${url}/-/ready`).then((response) => response.ok, () => false);
    },
    { timeoutMs: 60_000, what: "Prometheus to be ready" },
  );
  const api = async <T>(pathAndQuery: string): Promise<T> => {
    const response = await fetch(`${url}${pathAndQuery}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== "success") throw new Error(`Prometheus ${pathAndQuery}: ${body.error ?? response.status}`);
    return body.data;
  };
  return {
    url,
    api,
    query: async (expr) => (await api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}
