import type { ReplayJob } from "../replay-job-store.js";

/** A replay job as the API shows it. */
export function jobBody(job: ReplayJob) {
  const iso = (ms: number) => new Date(ms).toISOString();
  const params: Record<string, unknown> = { ...job.params };
  for (const key of ["from", "to", "since"]) if (typeof params[key] === "number") params[key] = iso(params[key] as number);
  return {
    jobId: job.jobId,
    kind: job.kind,
    state: job.state,
    endpointId: job.endpointId,
    params,
    total: job.total,
    scanned: job.scanned,
    requeued: job.requeued,
    error: job.error,
    createdAt: iso(job.createdAt),
    updatedAt: iso(job.updatedAt),
    finishedAt: job.finishedAt === null ? null : iso(job.finishedAt),
  };
}
