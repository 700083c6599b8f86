import { SingleBar } from "cli-progress";
import type { AdminClient } from "./admin-client.js";

/** A replay job as the admin API shows it (the fields the CLI uses). */
export interface JobStatus {
  jobId: string;
  state: "queued" | "running" | "succeeded" | "failed";
  total: number;
  scanned: number;
  requeued: number;
  error: string | null;
}

export interface ProgressOptions {
  /** Where the bar is drawn (standard error, so standard output stays the result). */
  stream: NodeJS.WritableStream;
  /** Time between polls of the job, in milliseconds. */
  pollIntervalMs: number;
  /** Waits between polls; injected so tests of the loop need no timer. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Polls a replay job until it ends, drawing scanned / total (and the re-queued count) as a
 * progress bar; on a terminal that is not a TTY the bar is printed as lines.
 */
export async function followReplay(client: AdminClient, jobId: string, options: ProgressOptions): Promise<JobStatus> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const bar = new SingleBar({
    stream: options.stream,
    format: "replay {jobId} |{bar}| {value}/{total} scanned, {requeued} re-queued, {state}",
    // Not a terminal (a log, a CI job): one line per change of progress, drawn below, not on a timer.
    noTTYOutput: true,
    notTTYSchedule: 3_600_000,
    hideCursor: false,
  });
  let job = (await client.call("GET", `/v1/replays/${jobId}`)).body as JobStatus;
  bar.start(Math.max(job.total, 1), job.scanned, { jobId, requeued: job.requeued, state: job.state });
  try {
    while (job.state === "queued" || job.state === "running") {
      await sleep(options.pollIntervalMs);
      const previous = job;
      job = (await client.call("GET", `/v1/replays/${jobId}`)).body as JobStatus;
      bar.setTotal(Math.max(job.total, 1));
      bar.update(job.scanned, { requeued: job.requeued, state: job.state });
      const changed = job.scanned !== previous.scanned || job.state !== previous.state || job.total !== previous.total;
      if (changed && job.state !== "succeeded" && job.state !== "failed") bar.render();
    }
  } finally {
    bar.stop();
  }
  return job;
}
