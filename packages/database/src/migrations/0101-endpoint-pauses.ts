import type { Knex } from "knex";

/**
 * Who paused an endpoint by hand, through the admin API or the portal: an operator or an
 * organization's key, by name, and why. The endpoint record has no room for it (its schema is
 * shared with the router and senders); an auto-pause is recorded by the projector in
 * endpoint_health (pause_state, pause_reason). A resume deletes the row.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE endpoint_pauses (
      endpoint_id text PRIMARY KEY,
      organization_uuid text NOT NULL,
      paused_by_kind text NOT NULL CHECK (paused_by_kind IN ('operator', 'organization')),
      paused_by text NOT NULL,
      reason text,
      paused_at timestamptz NOT NULL
    );
  `);
}

/** Forward-only, like every migration here. */
export async function down(): Promise<void> {
  throw new Error("migrations are forward-only");
}
