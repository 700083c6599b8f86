import type { Knex } from "knex";

/**
 * The admin service's own tables: API keys (only a hash and a display prefix, never the key)
 * and replay jobs with their progress, so a job outlives an admin restart.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE api_keys (
      key_id text PRIMARY KEY,
      prefix text NOT NULL UNIQUE,
      key_hash bytea NOT NULL,
      kind text NOT NULL CHECK (kind IN ('organization', 'operator')),
      organization_uuid text,
      name text NOT NULL,
      created_at timestamptz NOT NULL,
      revoked_at timestamptz,
      CHECK ((kind = 'organization') = (organization_uuid IS NOT NULL))
    );
    CREATE INDEX api_keys_organization ON api_keys (organization_uuid);

    CREATE TABLE replay_jobs (
      job_id text PRIMARY KEY,
      organization_uuid text NOT NULL,
      endpoint_id text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('delivery', 'range', 'backfill')),
      state text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
      params jsonb NOT NULL,
      total bigint NOT NULL DEFAULT 0,
      scanned bigint NOT NULL DEFAULT 0,
      requeued bigint NOT NULL DEFAULT 0,
      ranges jsonb,
      checkpoint jsonb,
      error text,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      finished_at timestamptz
    );
    CREATE INDEX replay_jobs_organization_recent ON replay_jobs (organization_uuid, created_at DESC);
    CREATE INDEX replay_jobs_unfinished ON replay_jobs (state) WHERE state IN ('queued', 'running');
  `);
}

/** Forward-only, like every migration here. */
export async function down(): Promise<void> {
  throw new Error("migrations are forward-only");
}
