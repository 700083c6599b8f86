import { randomUUID } from "node:crypto";
import type { Database } from "@novatrade/database";
import type { PartitionRange } from "@novatrade/kafka";

export type ReplayKind = "delivery" | "range" | "backfill";
export type ReplayState = "queued" | "running" | "succeeded" | "failed";

/** What was asked for, as stored with the job. */
export type ReplayParams =
  | { kind: "delivery"; deliveryId: string }
  | { kind: "range"; from: number; to: number; failedOnly: boolean; eventTypes: string[] | null }
  | { kind: "backfill"; since: number };

export interface ReplayJob {
  jobId: string;
  organizationUuid: string;
  endpointId: string;
  kind: ReplayKind;
  state: ReplayState;
  params: ReplayParams;
  total: number;
  scanned: number;
  requeued: number;
  /** The offsets the job reads, fixed when it first starts (so a resumed job reads the same). */
  ranges: PartitionRange[] | null;
  /** Next offset to read per partition, as far as progress was saved. */
  checkpoint: Record<string, string> | null;
  error: string | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

interface JobRow {
  job_id: string;
  organization_uuid: string;
  endpoint_id: string;
  kind: ReplayKind;
  state: ReplayState;
  params: ReplayParams;
  total: number;
  scanned: number;
  requeued: number;
  ranges: PartitionRange[] | null;
  checkpoint: Record<string, string> | null;
  error: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

function job(row: JobRow): ReplayJob {
  return {
    jobId: row.job_id,
    organizationUuid: row.organization_uuid,
    endpointId: row.endpoint_id,
    kind: row.kind,
    state: row.state,
    params: row.params,
    total: row.total,
    scanned: row.scanned,
    requeued: row.requeued,
    ranges: row.ranges,
    checkpoint: row.checkpoint,
    error: row.error,
    createdAt: row.created_at.getTime(),
    updatedAt: row.updated_at.getTime(),
    finishedAt: row.finished_at?.getTime() ?? null,
  };
}

/** Replay jobs in PostgreSQL: a job and its progress outlive the admin process that runs it. */
export class ReplayJobStore {
  constructor(
    private readonly db: Database,
    private readonly now: () => number,
  ) {}

  async create(input: { organizationUuid: string; endpointId: string; params: ReplayParams }): Promise<ReplayJob> {
    const at = new Date(this.now());
    const [row] = (await this.db("replay_jobs")
      .insert({
        job_id: `rpl_${randomUUID().replaceAll("-", "")}`,
        organization_uuid: input.organizationUuid.toLowerCase(),
        endpoint_id: input.endpointId,
        kind: input.params.kind,
        state: "queued",
        params: JSON.stringify(input.params),
        created_at: at,
        updated_at: at,
      })
      .returning("*")) as JobRow[];
    return job(row!);
  }

  /** The job if it belongs to the organization; null otherwise. */
  async get(organizationUuid: string, jobId: string): Promise<ReplayJob | null> {
    const row = (await this.db("replay_jobs").where({ job_id: jobId, organization_uuid: organizationUuid.toLowerCase() }).first()) as JobRow | undefined;
    return row ? job(row) : null;
  }

  async list(organizationUuid: string, limit: number): Promise<ReplayJob[]> {
    const rows = (await this.db("replay_jobs").where({ organization_uuid: organizationUuid.toLowerCase() }).orderBy("created_at", "desc").limit(limit)) as JobRow[];
    return rows.map(job);
  }

  /**
   * Runs `work` with the job read afresh while holding its PostgreSQL advisory lock (held by an
   * open transaction, so a crashed admin's lock goes with its connection). Resolves false, without
   * running `work`, when another admin holds the lock.
   */
  async withClaim(jobId: string, work: (job: ReplayJob) => Promise<void>): Promise<boolean> {
    let claimed = false;
    await this.db.transaction(async (trx) => {
      const { rows } = (await trx.raw("SELECT pg_try_advisory_xact_lock(hashtext('replay_jobs'), hashtext(?)) AS claimed", [jobId])) as { rows: Array<{ claimed: boolean }> };
      if (!rows[0]?.claimed) return;
      claimed = true;
      const row = (await trx("replay_jobs").where({ job_id: jobId }).first()) as JobRow | undefined;
      if (row) await work(job(row));
    });
    return claimed;
  }

  /** Jobs that were queued or running when an admin stopped: to resume. */
  async unfinished(): Promise<ReplayJob[]> {
    const rows = (await this.db("replay_jobs").whereIn("state", ["queued", "running"]).orderBy("created_at")) as JobRow[];
    return rows.map(job);
  }

  async start(jobId: string, ranges: PartitionRange[], total: number): Promise<void> {
    await this.db("replay_jobs")
      .where({ job_id: jobId })
      .update({ state: "running", ranges: JSON.stringify(ranges), total, updated_at: new Date(this.now()) });
  }

  async progress(jobId: string, progress: { scanned: number; requeued: number; checkpoint: Record<string, string> }): Promise<void> {
    await this.db("replay_jobs")
      .where({ job_id: jobId })
      .update({ ...progress, checkpoint: JSON.stringify(progress.checkpoint), updated_at: new Date(this.now()) });
  }

  async finish(jobId: string, outcome: { state: "succeeded" | "failed"; error?: string; scanned?: number; requeued?: number; checkpoint?: Record<string, string> }): Promise<void> {
    const at = new Date(this.now());
    await this.db("replay_jobs")
      .where({ job_id: jobId })
      .update({
        state: outcome.state,
        error: outcome.error ?? null,
        ...(outcome.scanned === undefined ? {} : { scanned: outcome.scanned }),
        ...(outcome.requeued === undefined ? {} : { requeued: outcome.requeued }),
        ...(outcome.checkpoint === undefined ? {} : { checkpoint: JSON.stringify(outcome.checkpoint) }),
        updated_at: at,
        finished_at: at,
      });
  }
}
