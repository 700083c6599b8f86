import type { Knex } from "knex";
import type { Complete, EndpointConfigRecord } from "@novatrade/event-codec";

export type EndpointRecord = Complete<EndpointConfigRecord>;

/** One record of the compacted endpoint-configuration topic: a configuration or a deletion. */
export type EndpointChange = { endpointId: string; config: EndpointRecord } | { endpointId: string; config: null };

/**
 * Projects endpoint configuration (no secrets: the table has no column for them) and records
 * its status in endpoint health:
 * - a configuration older than the one projected (lower revision) changes nothing;
 * - ACTIVE after an auto-pause is a resume when it was written after the failure that paused
 *   the endpoint: the streak starts over, and the next pause is a new episode;
 * - a deletion removes the endpoint row; its health and history stay until retention.
 */
export async function projectEndpointChanges(db: Knex, changes: EndpointChange[]): Promise<number> {
  // The topic is compacted and keyed by endpoint id: only the last change of each counts.
  const last = new Map<string, EndpointChange>();
  for (const change of changes) last.set(change.endpointId, change);
  if (last.size === 0) return 0;
  await db.transaction(async (trx) => {
    const ids = [...last.keys()].sort();
    const current = (await trx("endpoints").select("endpoint_id", "revision").whereIn("endpoint_id", ids).orderBy("endpoint_id").forUpdate()) as { endpoint_id: string; revision: number }[];
    const revisions = new Map(current.map((row) => [row.endpoint_id, row.revision]));
    const deleted = [...last.values()].filter((change) => change.config === null).map((change) => change.endpointId);
    if (deleted.length > 0) await trx("endpoints").whereIn("endpoint_id", deleted).delete();
    const configs = [...last.values()]
      .map((change) => change.config)
      .filter((config): config is EndpointRecord => config !== null && config.revision >= (revisions.get(config.endpointId) ?? -1));
    if (configs.length === 0) return;
    await trx("endpoints")
      .insert(
        configs.map((config) => ({
          endpoint_id: config.endpointId,
          organization_uuid: config.organizationUuid.toLowerCase(),
          url: config.url,
          description: config.description,
          event_types: config.eventTypes,
          partner_ids: config.partnerIds,
          accepted_schema_versions: config.acceptedSchemaVersions,
          status: config.status,
          max_in_flight: config.maxInFlight,
          rate_limit_per_second: config.rateLimitPerSecond,
          revision: config.revision,
          created_at: new Date(config.createdAt),
          updated_at: new Date(config.updatedAt),
        })),
      )
      .onConflict("endpoint_id")
      .merge();
    await syncHealthStatus(trx, configs);
  });
  return last.size;
}

async function syncHealthStatus(trx: Knex.Transaction, configs: EndpointRecord[]): Promise<void> {
  const ids = configs.map((config) => config.endpointId).sort();
  const health = (await trx("endpoint_health")
    .select("endpoint_id", "status", "pause_trigger_at", "pause_state")
    .whereIn("endpoint_id", ids)
    .orderBy("endpoint_id")
    .forUpdate()) as { endpoint_id: string; status: string; pause_trigger_at: Date | null; pause_state: string | null }[];
  const rows = new Map(health.map((row) => [row.endpoint_id, row]));
  for (const config of configs) {
    const row = rows.get(config.endpointId);
    const configured = { config_status: config.status, config_updated_at: new Date(config.updatedAt) };
    if (!row) {
      await trx("endpoint_health")
        .insert({ endpoint_id: config.endpointId, organization_uuid: config.organizationUuid.toLowerCase(), status: "ACTIVE", ...configured })
        .onConflict("endpoint_id")
        .merge(["config_status", "config_updated_at"]);
      continue;
    }
    // ACTIVE written after the failure that paused it: a resume, the streak starts over. One
    // written before it is the configuration the pause replaced, read late.
    const resumed =
      row.status === "PAUSED" && config.status === "ACTIVE" && (row.pause_trigger_at === null || config.updatedAt > row.pause_trigger_at.getTime());
    await trx("endpoint_health")
      .where({ endpoint_id: config.endpointId })
      .update(
        resumed
          ? {
              ...configured,
              status: "ACTIVE",
              consecutive_failures: 0,
              failing_since: null,
              // A pause never carried out (the endpoint was resumed first) is abandoned.
              pause_state: row.pause_state === "PENDING" ? "SKIPPED" : row.pause_state,
            }
          : configured,
      );
  }
}
