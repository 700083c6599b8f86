import type { Knex } from "knex";

/**
 * The read side's first schema. History tables (events, deliveries, attempts) are partitioned
 * by UTC day: retention drops whole partitions, never rows. A delivery and its attempts share
 * the delivery's day, so they are kept and dropped together and joined within one partition.
 * No table holds a signing secret.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE endpoints (
      endpoint_id text PRIMARY KEY,
      organization_uuid text NOT NULL,
      url text NOT NULL,
      description text NOT NULL,
      event_types text[] NOT NULL,
      partner_ids text[],
      accepted_schema_versions int[] NOT NULL,
      status text NOT NULL,
      max_in_flight int NOT NULL,
      rate_limit_per_second int,
      revision bigint NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    );
    CREATE INDEX endpoints_organization ON endpoints (organization_uuid);

    CREATE TABLE events (
      day date NOT NULL,
      event_id text NOT NULL,
      type text NOT NULL,
      schema_version int NOT NULL,
      source text NOT NULL,
      organization_uuid text NOT NULL,
      partner_uuid text,
      created_at timestamptz NOT NULL,
      envelope jsonb NOT NULL,
      PRIMARY KEY (day, event_id)
    ) PARTITION BY RANGE (day);
    CREATE INDEX events_organization_recent ON events (organization_uuid, created_at DESC);
    CREATE INDEX events_event_id ON events (event_id);

    CREATE TABLE deliveries (
      day date NOT NULL,
      delivery_id text NOT NULL,
      event_id text NOT NULL,
      event_type text NOT NULL,
      endpoint_id text NOT NULL,
      organization_uuid text NOT NULL,
      replay_id text,
      status text NOT NULL,
      attempts int NOT NULL,
      first_attempted_at timestamptz NOT NULL,
      last_attempted_at timestamptz NOT NULL,
      next_attempt_at timestamptz,
      last_status_code int,
      last_error_class text,
      PRIMARY KEY (day, delivery_id)
    ) PARTITION BY RANGE (day);
    CREATE INDEX deliveries_delivery_id ON deliveries (delivery_id);
    CREATE INDEX deliveries_endpoint_recent ON deliveries (endpoint_id, first_attempted_at DESC);
    CREATE INDEX deliveries_event_id ON deliveries (event_id);
    CREATE INDEX deliveries_status_recent ON deliveries (status, last_attempted_at DESC);

    CREATE TABLE attempts (
      day date NOT NULL,
      delivery_id text NOT NULL,
      attempt int NOT NULL,
      endpoint_id text NOT NULL,
      result text NOT NULL,
      status_code int,
      error_class text,
      error_message text,
      latency_ms bigint,
      response_body text,
      attempted_at timestamptz NOT NULL,
      next_attempt_at timestamptz,
      PRIMARY KEY (day, delivery_id, attempt)
    ) PARTITION BY RANGE (day);

    CREATE TABLE endpoint_health (
      endpoint_id text PRIMARY KEY,
      organization_uuid text,
      status text NOT NULL,
      consecutive_failures int NOT NULL DEFAULT 0,
      failing_since timestamptz,
      last_success_at timestamptz,
      last_failure_at timestamptz,
      last_attempt_at timestamptz,
      last_status_code int,
      last_error text,
      outcome_partition int,
      outcome_offset bigint,
      config_status text,
      config_updated_at timestamptz,
      pause_state text,
      pause_event_id text,
      pause_reason text,
      pause_trigger_at timestamptz,
      paused_consecutive_failures int,
      paused_failing_since timestamptz,
      episodes int NOT NULL DEFAULT 0
    );
    CREATE INDEX endpoint_health_failing ON endpoint_health (failing_since) WHERE status = 'ACTIVE' AND failing_since IS NOT NULL;
    CREATE INDEX endpoint_health_pause_pending ON endpoint_health (endpoint_id) WHERE pause_state = 'PENDING';

    CREATE TABLE compliance_rollup (
      organization_uuid text NOT NULL,
      order_id text NOT NULL,
      order_reference text,
      status text,
      status_event_id text,
      status_changed_at timestamptz,
      verdict text,
      decision_event_id text,
      decided_at timestamptz,
      as_of_event_id text NOT NULL,
      as_of_at timestamptz NOT NULL,
      version bigint NOT NULL,
      PRIMARY KEY (organization_uuid, order_id)
    );
    CREATE TABLE compliance_versions (
      organization_uuid text PRIMARY KEY,
      version bigint NOT NULL
    );
  `);
}

/** Forward-only: the history is rebuilt from the log, never migrated down. */
export async function down(): Promise<void> {
  throw new Error("migrations are forward-only");
}
