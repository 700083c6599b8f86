// A paced event producer in a process of its own (benchmarks: its CPU is not the services'
// nor the bench's). Configuration: one JSON argument
//   { brokers: string[], schemaRegistryUrl, domainTopic, organizations: string[],
//     eventsPerSecond, durationMs, reasonBytes }
// Every event is a compliance.decision_made for the next organization in turn, stamped with
// createdAt when it is encoded (just before its produce request), `data.reason` padded to
// `reasonBytes` characters. Events are produced in ticks of 20 ms: each tick sends what is due
// by then, so a slow tick is caught up by the next one rather than lowering the rate.
// Prints one JSON line at the end: { sent, seconds, eventsPerSecond, maxBehindMs }.
// Uses the packages' compiled dist/ (`make bench` builds first).
import { pino } from "pino";
import { Registry } from "prom-client";
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { createEventCodec, loadSchemaCatalogue, sampleEvent } from "@novatrade/event-codec";
import { createKafka } from "@novatrade/kafka";
import { createEventProducer } from "@novatrade/producer";

const TICK_MS = 20;
const config = JSON.parse(process.argv[2] ?? "{}");
for (const field of ["brokers", "schemaRegistryUrl", "domainTopic", "organizations", "eventsPerSecond", "durationMs"]) {
  if (config[field] === undefined) {
    process.stderr.write(`load-generator: configuration field ${field} is missing\n`);
    process.exit(2);
  }
}

const logger = pino({ level: "warn" });
const catalogue = await loadSchemaCatalogue();
const codec = createEventCodec({ registry: new SchemaRegistry({ host: config.schemaRegistryUrl }), catalogue });
const kafka = createKafka({ brokers: config.brokers, clientId: "bench-load-generator", logger, registry: new Registry(), metricsPrefix: "bench_kafka_" });
const producer = kafka.createProducer();
await producer.connect();
const events = createEventProducer({ producer, codec, catalogue, domainTopic: config.domainTopic });
const data = { ...sampleEvent("compliance.decision_made").data, reason: "r".repeat(config.reasonBytes ?? 0) || null };

let stopping = false;
process.on("SIGTERM", () => (stopping = true));

let sent = 0;
let maxBehindMs = 0;
const started = Date.now();
while (!stopping) {
  const elapsed = Date.now() - started;
  if (elapsed >= config.durationMs) break;
  const due = Math.floor((elapsed / 1000) * config.eventsPerSecond) - sent;
  if (due > 0) {
    const prepared = await Promise.all(
      Array.from({ length: due }, (_, index) =>
        events.prepare({
          type: "compliance.decision_made",
          data,
          organizationUuid: config.organizations[(sent + index) % config.organizations.length],
          source: "WEB_APP",
          partnerUuid: null,
        }),
      ),
    );
    await producer.send(config.domainTopic, prepared.map(({ key, value, headers }) => ({ key, value, headers })));
    sent += due;
  }
  // How far behind the schedule this tick ended: the generator itself not keeping the pace.
  const behind = Date.now() - started - (sent / config.eventsPerSecond) * 1000;
  maxBehindMs = Math.max(maxBehindMs, Math.round(behind));
  await new Promise((resolve) => setTimeout(resolve, TICK_MS));
}
const seconds = (Date.now() - started) / 1000;
await producer.disconnect();
await kafka.disconnect();
process.stdout.write(`${JSON.stringify({ sent, seconds: Number(seconds.toFixed(2)), eventsPerSecond: Math.round(sent / seconds), maxBehindMs })}\n`);
process.exit(0);
