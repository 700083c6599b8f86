import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

export function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((row) => row.startsWith("VmRSS:"));
  return Math.round(Number(line?.split(/\s+/)[1] ?? 0) / 1024);
}

/** The broker scripts/infra.sh started. */
export function brokerPid(): number {
  return Number(readFileSync(path.join(root, ".local/run/kafka.pid"), "utf8").trim());
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

/** The last value of every Linux load average (1, 5, 15 minutes): how busy the machine was. */
export function loadAverage(): number[] {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);
}
