import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface ReceiverStats {
  total: number;
  /** Distinct event ids answered 2xx. */
  unique: number;
  /** First attempts answered 500 (the /fail-first/ path). */
  refused: number;
  /** Requests being held unanswered now (the /hang/ path). */
  hanging: number;
  /** Requests held unanswered since the receiver started. */
  hung: number;
  firstAt: number | null;
  lastAt: number | null;
}

export interface LatencyPercentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface GroupSummary {
  deliveries: number;
  firstArrivalAt: number;
  lastArrivalAt: number;
  /** Arrival at the receiver minus the envelope's createdAt. */
  latencyMs: LatencyPercentiles;
}

/** What a receiver path does with a POST (bench/receiver-process.mjs). */
export type ReceiverBehaviour = "hooks" | "fail-first" | "hang";

/** bench/receiver-process.mjs, running as a process of its own. */
export interface ReceiverProcess {
  /** `/hooks` on the receiver: 200 at once, group "default". */
  url: string;
  base: string;
  /** The URL of one behaviour, its deliveries summarized under `group`. */
  urlFor(behaviour: ReceiverBehaviour, group: string): string;
  stats(): Promise<ReceiverStats>;
  receivedAt(eventId: string): Promise<number | null>;
  /** Per group, deliveries whose arrival (or creation) time is in [from, to). */
  summary(by: "arrival" | "created", from: number, to: number): Promise<Record<string, GroupSummary>>;
  /** Every event id answered 2xx: when it first arrived and how many times (duplicates: > 1). */
  arrivals(): Promise<Map<string, { firstAt: number; count: number }>>;
  /** The longest silence between 2xx POSTs to `path` within [from, to] (the edges count). */
  longestGap(path: string, from: number, to: number): Promise<{ gapMs: number; at: number; arrivals: number }>;
  /** The paths POSTed to that start with `prefix`: how many times, and when first. */
  paths(prefix: string): Promise<Record<string, { count: number; firstAt: number }>>;
  pid: number;
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
  const get = async <T>(pathAndQuery: string): Promise<T> => (await fetch(`${base}${pathAndQuery}`)).json() as Promise<T>;
  return {
    url: `${base}/hooks`,
    base,
    urlFor: (behaviour, group) => `${base}/${behaviour}/${encodeURIComponent(group)}`,
    stats: () => get<ReceiverStats>("/stats"),
    receivedAt: async (eventId) => {
      const response = await fetch(`${base}/received/${encodeURIComponent(eventId)}`);
      return response.ok ? ((await response.json()) as { receivedAt: number }).receivedAt : null;
    },
    summary: (by, from, to) => get(`/summary?by=${by}&from=${from}&to=${to}`),
    longestGap: (path, from, to) => get(`/longest-gap?path=${encodeURIComponent(path)}&from=${from}&to=${to}`),
    paths: (prefix) => get(`/paths?prefix=${encodeURIComponent(prefix)}`),
    arrivals: async () => new Map((await get<Array<[string, number, number]>>("/arrivals")).map(([id, firstAt, count]) => [id, { firstAt, count }])),
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
