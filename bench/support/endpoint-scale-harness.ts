import { spawn, type ChildProcess } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sampleEvent } from "@novatrade/event-codec";
import { topicNames } from "@novatrade/domain";
import type { Pipeline } from "../../test/support/pipeline.js";

/**
 * What the endpoint-scale benchmarks share (bench/endpoint-scale.bench.ts, one sender and one
 * router; bench/scale-out.bench.ts, two of each): the receiver in a process of its own, reading a
 * service's /metrics from outside, publishing events spread over many organizations, and the
 * process figures read from /proc.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const CLOCK_TICKS_PER_SECOND = 100;
const data = sampleEvent("compliance.decision_made").data;

/**
 * The test pipeline lists every topic of the cluster each second to find new delivery topics;
 * in production that is every 30 s (a new endpoint is picked up at once through the endpoint
 * directory either way). Listing 10,000 topics each second is not what idle costs in production.
 */
export const PRODUCTION_TOPIC_REFRESH = { SENDER_TOPIC_REFRESH_MS: "30000" };

export function machine() {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
}

/**
 * What a benchmark writes to bench/results/<name>.json: the machine, when, its configuration and
 * one entry per run. `write()` writes and prints it (in `afterAll`, so failed runs are kept too).
 */
export function benchResults(name: string, configuration: Record<string, unknown>) {
  const results = { machine: machine(), date: new Date().toISOString(), configuration, runs: [] as Record<string, unknown>[] };
  return {
    runs: results.runs,
    write() {
      const out = path.resolve(here, "..", "results");
      mkdirSync(out, { recursive: true });
      writeFileSync(path.join(out, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`);
      console.log(JSON.stringify(results, null, 2));
    },
  };
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

export function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((row) => row.startsWith("VmRSS:"));
  return Math.round(Number(line?.split(/\s+/)[1] ?? 0) / 1024);
}

export function brokerPid(): number {
  return Number(readFileSync(path.join(root, ".local/run/kafka.pid"), "utf8").trim());
}

/** The 1-minute load average of the machine (other engineers' brokers and runs share it). */
export function loadAverage(): number {
  return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
}

export interface ReceiverStats {
  /** Requests received, duplicates included. */
  total: number;
  /** Distinct event ids received. */
  unique: number;
  firstAt: number | null;
  lastAt: number | null;
}

export interface ReceiverProcess {
  url: string;
  stats(): Promise<ReceiverStats>;
  receivedAt(eventId: string): Promise<number | null>;
  /** Every event id received: when it first arrived and how many times. */
  arrivals(): Promise<Map<string, { firstAt: number; count: number }>>;
  stop(): Promise<void>;
}

export async function startReceiverProcess(): Promise<ReceiverProcess> {
  const child: ChildProcess = spawn(process.execPath, [path.join(here, "..", "receiver-process.mjs")], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once("data", (chunk: Buffer) => resolve(Number(chunk.toString("utf8").trim())));
    child.once("exit", (code) => reject(new Error(`receiver process exited with ${code}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/hooks`,
    stats: async () => (await fetch(`${base}/stats`)).json() as Promise<ReceiverStats>,
    receivedAt: async (eventId) => {
      const response = await fetch(`${base}/received/${encodeURIComponent(eventId)}`);
      return response.ok ? ((await response.json()) as { receivedAt: number }).receivedAt : null;
    },
    arrivals: async () => {
      const rows = (await (await fetch(`${base}/arrivals`)).json()) as Array<[string, number, number]>;
      return new Map(rows.map(([id, firstAt, count]) => [id, { firstAt, count }]));
    },
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** One series of a metric as a service's /metrics shows it. */
export interface MetricSeries {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Every series on the /metrics of the service listening on `opsPort` (one request). */
export async function scrapeMetrics(opsPort: number): Promise<MetricSeries[]> {
  const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
  return text
    .split("\n")
    .filter((line) => line.length > 0 && !line.startsWith("#"))
    .map((line) => {
      const open = line.indexOf("{");
      const close = line.lastIndexOf("}");
      const name = open > 0 ? line.slice(0, open) : line.split(" ")[0]!;
      const labelText = open > 0 ? line.slice(open + 1, close) : "";
      const labels = Object.fromEntries([...labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((match) => [match[1]!, match[2]!]));
      return { name, labels, value: Number(line.split(" ").at(-1)) };
    });
}

/** Metric `name` summed over the series whose labels include every one of `labels`. */
export function sumOf(series: MetricSeries[], name: string, labels: Record<string, string> = {}): number {
  return series
    .filter((one) => one.name === name && Object.entries(labels).every(([key, value]) => one.labels[key] === value))
    .reduce((sum, one) => sum + one.value, 0);
}

/** A metric's value on a service, summed over the series whose labels include every one of `labels`. */
export async function metric(opsPort: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sumOf(await scrapeMetrics(opsPort), name, labels);
}

/** An event published by `publishSpread`: its id and the organization (one endpoint each) it is for. */
export interface PublishedEvent {
  id: string;
  organizationUuid: string;
}

/** Publishes `count` events round-robin over `organizations`, 500 to a produce request. */
export async function publishSpread(pipeline: Pipeline, organizations: string[], count: number, offset = 0): Promise<PublishedEvent[]> {
  const domain = topicNames(pipeline.naming).domain;
  const published: PublishedEvent[] = [];
  for (let start = 0; start < count; start += 500) {
    const prepared = await Promise.all(
      Array.from({ length: Math.min(500, count - start) }, (_, index) =>
        pipeline.events.prepare({
          type: "compliance.decision_made",
          data,
          organizationUuid: organizations[(offset + start + index) % organizations.length]!,
          source: "WEB_APP",
          partnerUuid: null,
        }),
      ),
    );
    await pipeline.producer.send(domain, prepared.map(({ key, value, headers }) => ({ key, value, headers })));
    published.push(...prepared.map(({ envelope }) => ({ id: envelope.id, organizationUuid: envelope.organizationUuid })));
  }
  return published;
}

export function seconds(since: number): number {
  return Number(((performance.now() - since) / 1000).toFixed(2));
}

export function percent(share: number): number {
  return Number((share * 100).toFixed(1));
}
