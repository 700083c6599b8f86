#!/usr/bin/env node
import { parseArgs } from "node:util";
import { createDatabase, endpointHistory, eventHistory, type DeliveryView } from "@novatrade/database";

/**
 * `npm run history -- <endpoint-id> [--limit 50]` or `npm run history -- --event <evt_id>`:
 * one endpoint's recent deliveries (or one event's deliveries across endpoints) with their
 * attempts, read from the projector's tables, so nobody needs SQL to look. DATABASE_URL and
 * PROJECTOR_DATABASE_SCHEMA say where. `--json` prints JSON instead of the table.
 */
const USAGE = "usage: history <endpoint-id> [--limit N] [--json] | history --event <event-id> [--json]";

function render(deliveries: DeliveryView[]): string {
  if (deliveries.length === 0) return "no deliveries\n";
  const lines: string[] = [];
  for (const d of deliveries) {
    lines.push(
      `${d.deliveryId}  ${d.eventType}  ${d.eventId}  endpoint ${d.endpointId}  ${d.status}  attempts ${d.attempts}` +
        `  first ${d.firstAttemptedAt.toISOString()}${d.nextAttemptAt ? `  next ${d.nextAttemptAt.toISOString()}` : ""}`,
    );
    for (const a of d.attemptList) {
      const answer = a.statusCode !== null ? `HTTP ${a.statusCode}` : (a.errorClass ?? "-");
      const detail = a.errorMessage ? `  ${a.errorMessage}` : "";
      lines.push(`    #${a.attempt}  ${a.attemptedAt.toISOString()}  ${a.result}  ${answer}  ${a.latencyMs ?? "-"} ms${detail}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: { limit: { type: "string", default: "50" }, event: { type: "string" }, json: { type: "boolean", default: false } },
  });
} catch (error) {
  process.stderr.write(`history: ${(error as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
const { values, positionals } = parsed;
const limit = Number(values.limit);
const endpointId = positionals[0];
if ((!endpointId && !values.event) || !Number.isInteger(limit) || limit < 1 || limit > 1000) {
  process.stderr.write(`${USAGE}\n(--limit is 1 to 1000)\n`);
  process.exit(2);
}
const db = createDatabase({
  url: process.env.DATABASE_URL ?? "postgres://novatrade:novatrade@127.0.0.1:15432/novatrade",
  schema: process.env.PROJECTOR_DATABASE_SCHEMA ?? "public",
  poolMax: 2,
});
try {
  const deliveries = values.event ? await eventHistory(db, values.event) : await endpointHistory(db, endpointId!, limit);
  process.stdout.write(values.json ? `${JSON.stringify(deliveries, null, 2)}\n` : render(deliveries));
} catch (error) {
  process.stderr.write(`history: ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await db.destroy();
}
