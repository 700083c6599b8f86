import { Registry } from "prom-client";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { deliveryId, deliveryTopic, topicNames, type EventEnvelope, type EventSource, type TopicNaming } from "@novatrade/domain";
import {
  createEventCodec,
  createRecordCodec,
  InMemorySchemaRegistry,
  loadSchemaCatalogue,
  MAX_EVENT_BODY_BYTES,
  parseEventSchema,
  sampleEvent,
  toWireFormat,
  type EventCodec,
  type RecordCodec,
  type SchemaCatalogue,
} from "@novatrade/event-codec";
import type { EndpointConfig } from "@novatrade/endpoint-config";
import type { KafkaMessage } from "@novatrade/kafka";
import { DELIVERY_HEADERS, EventRouter, type RoutedRecord } from "./event-router.js";
import { createRouterMetrics } from "./metrics.js";

const NOW = Date.parse("2026-04-22T10:31:00.000Z");
const RETRY_SCHEDULE = [5_000, 300_000, 1_800_000];
const NAMING: TopicNaming = { prefix: "unit.", domainTopic: "unit.events" };
const TOPICS = topicNames(NAMING);

// sampleEvent()'s tenant and dealer.
const ORG = "550e8400-e29b-41d4-a716-446655440000";
const PARTNER = "11111111-2222-4333-8444-555555555555";
const OTHER_ORG = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
const OTHER_PARTNER = "22222222-3333-4444-8555-666666666666";

let catalogue: SchemaCatalogue;
let schemaRegistry: InMemorySchemaRegistry;
/** What an upstream producer encodes with: its own codec, so the router's caches start cold. */
let upstream: EventCodec;
let records: RecordCodec;
let metricsRegistry: Registry;
let endpoints: EndpointConfig[];
let router: EventRouter;

beforeAll(async () => {
  catalogue = await loadSchemaCatalogue();
});

beforeEach(() => {
  schemaRegistry = new InMemorySchemaRegistry({ firstId: 500 }).addCatalogue(catalogue);
  upstream = createEventCodec({ registry: schemaRegistry, catalogue });
  records = createRecordCodec({ registry: schemaRegistry, catalogue });
  metricsRegistry = new Registry();
  endpoints = [];
  router = new EventRouter({
    codec: createEventCodec({ registry: schemaRegistry, catalogue }),
    records,
    // A function, as the directory's live view: each route() sees the endpoints of that moment.
    // Every endpoint, whatever organization is asked for: tenancy must still hold via matching.
    endpointsOf: () => endpoints,
    naming: NAMING,
    retrySchedule: RETRY_SCHEDULE,
    metrics: createRouterMetrics(metricsRegistry),
    now: () => NOW,
  });
});

let endpointSequence = 0;
function endpoint(overrides: Partial<EndpointConfig> = {}): EndpointConfig {
  endpointSequence += 1;
  const config: EndpointConfig = {
    endpointId: `ep_unit${endpointSequence}`,
    organizationUuid: ORG,
    url: "https://hooks.example.com/novatrade",
    description: "",
    eventTypes: ["compliance.*"],
    partnerIds: null,
    acceptedSchemaVersions: [1],
    secrets: [],
    status: "ACTIVE",
    maxInFlight: 10,
    rateLimitPerSecond: null,
    createdAt: NOW - 60_000,
    updatedAt: NOW - 60_000,
    revision: 1,
    ...overrides,
  };
  endpoints.push(config);
  return config;
}

function message(value: Buffer | null, overrides: Partial<KafkaMessage> = {}): KafkaMessage {
  return {
    topic: TOPICS.domain,
    partition: 2,
    offset: "41",
    key: Buffer.from(ORG),
    value,
    headers: {},
    timestamp: NOW - 1_000,
    ...overrides,
  };
}

function event(type: Parameters<typeof sampleEvent>[0], overrides: Partial<EventEnvelope> = {}, version = 1): EventEnvelope {
  return { ...sampleEvent(type, { version, seed: String(Math.random()) }), ...overrides };
}

async function route(envelope: EventEnvelope): Promise<RoutedRecord[]> {
  return router.route(message(await upstream.encode(envelope)));
}

/** The endpoints the records are delivery requests for, in order. */
const deliveredTo = (routed: RoutedRecord[]): string[] => routed.filter((r) => r.endpointId !== undefined).map((r) => r.endpointId!);

async function metricValue(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = metricsRegistry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values
    .filter((value) => Object.entries(labels).every(([key, expected]) => value.labels[key] === expected))
    .reduce((sum, value) => sum + value.value, 0);
}

describe("delivery requests", () => {
  it("writes one delivery request per matching endpoint, to that endpoint's delivery topic, with everything the sender needs", async () => {
    const exact = endpoint({ eventTypes: ["compliance.status_changed"] });
    const wildcard = endpoint({ eventTypes: ["compliance.*"] });
    endpoint({ eventTypes: ["kyc.*"] });
    const envelope = event("compliance.status_changed");

    const routed = await route(envelope);

    expect(routed.map((r) => r.topic)).toEqual([deliveryTopic(NAMING, exact.endpointId), deliveryTopic(NAMING, wildcard.endpointId)]);
    for (const [record, target] of [[routed[0]!, exact], [routed[1]!, wildcard]] as const) {
      const id = deliveryId(envelope.id, target.endpointId);
      expect(record.endpointId).toBe(target.endpointId);
      // Keyed by event id; the headers let tools see what a record is without decoding it.
      expect(record.message.key).toBe(envelope.id);
      expect(record.message.headers).toEqual({
        [DELIVERY_HEADERS.deliveryId]: id,
        [DELIVERY_HEADERS.eventId]: envelope.id,
        [DELIVERY_HEADERS.eventType]: envelope.type,
      });
      const request = await records.decode("delivery-request", record.message.value!);
      expect(request).toEqual({
        deliveryId: id,
        eventId: envelope.id,
        eventType: "compliance.status_changed",
        endpointId: target.endpointId,
        organizationUuid: ORG,
        partnerUuid: PARTNER,
        schemaVersion: 1,
        body: request.body,
        attempt: 1,
        retrySchedule: RETRY_SCHEDULE,
        firstAttemptAt: null,
        notBefore: NOW,
        isMeta: false,
        replayId: null,
        createdAt: NOW,
      });
      // The body is the SPEC §2 envelope, exactly as the producer wrote it.
      expect(JSON.parse(request.body)).toEqual(envelope);
    }
    expect(await metricValue("novatrade_router_events_total", { outcome: "routed" })).toBe(1);
    expect(await metricValue("novatrade_router_deliveries_total", { event_type: "compliance.status_changed" })).toBe(2);
  });

  it("marks deliveries of meta events, so the sender never emits a meta event about them (no loops)", async () => {
    const target = endpoint({ eventTypes: ["webhook.*"] });
    const routed = await route(event("webhook.delivery_failed_terminal"));
    expect(deliveredTo(routed)).toEqual([target.endpointId]);
    expect(await records.decode("delivery-request", routed[0]!.message.value!)).toMatchObject({ isMeta: true, eventType: "webhook.delivery_failed_terminal" });
  });

  it("writes nothing for an event no endpoint wants, and counts it", async () => {
    endpoint({ eventTypes: ["kyc.*"] });
    expect(await route(event("prospect.submitted"))).toEqual([]);
    expect(await metricValue("novatrade_router_events_total", { outcome: "no_match" })).toBe(1);
  });

  it("asks for the endpoints on every event, so a change in the directory applies to the next event", async () => {
    const first = endpoint({ eventTypes: ["kyc.*"] });
    expect(deliveredTo(await route(event("kyc.vies_check_failed")))).toEqual([first.endpointId]);
    endpoints.splice(0);
    const second = endpoint({ eventTypes: ["kyc.vies_check_failed"] });
    expect(deliveredTo(await route(event("kyc.vies_check_failed")))).toEqual([second.endpointId]);
  });
});

describe("who gets an event", () => {
  it.each<[EventSource, boolean]>([
    ["API", false],
    ["WEB_APP", true],
    ["SYSTEM", true],
  ])("source %s is delivered: %s (no echo of API calls)", async (source, delivered) => {
    const target = endpoint({ eventTypes: ["compliance.*"] });
    const routed = await route(event("compliance.decision_made", { source }));
    expect(deliveredTo(routed)).toEqual(delivered ? [target.endpointId] : []);
    expect(routed).toHaveLength(delivered ? 1 : 0);
    expect(await metricValue("novatrade_router_events_total", { outcome: "echo_suppressed" })).toBe(delivered ? 0 : 1);
  });

  it("never routes an event to another organization's endpoint, whatever it subscribes to", async () => {
    endpoint({ organizationUuid: OTHER_ORG, eventTypes: ["compliance.*", "kyc.*"] });
    const own = endpoint({ organizationUuid: ORG.toUpperCase(), eventTypes: ["compliance.status_changed"] });
    expect(deliveredTo(await route(event("compliance.status_changed")))).toEqual([own.endpointId]);
    expect(deliveredTo(await route(event("kyc.vies_check_failed")))).toEqual([]);
  });

  it("limits partner-scoped endpoints to their partners; partnerIds null gets every event, partner-less ones too", async () => {
    const scoped = endpoint({ partnerIds: [PARTNER] });
    const all = endpoint({ partnerIds: null });
    expect(deliveredTo(await route(event("compliance.status_changed", { partnerUuid: PARTNER })))).toEqual([scoped.endpointId, all.endpointId]);
    expect(deliveredTo(await route(event("compliance.status_changed", { partnerUuid: OTHER_PARTNER })))).toEqual([all.endpointId]);
    expect(deliveredTo(await route(event("compliance.status_changed", { partnerUuid: null })))).toEqual([all.endpointId]);
  });

  it("still writes a PAUSED endpoint's delivery (the sender holds it); a DISABLED one gets none", async () => {
    const paused = endpoint({ status: "PAUSED" });
    endpoint({ status: "DISABLED" });
    expect(deliveredTo(await route(event("compliance.status_changed")))).toEqual([paused.endpointId]);
  });
});

describe("schema versions", () => {
  it("renders each endpoint's delivery in the highest version it accepts", async () => {
    const v1 = endpoint({ acceptedSchemaVersions: [1] });
    const v12 = endpoint({ acceptedSchemaVersions: [2, 1] });
    const v13 = endpoint({ acceptedSchemaVersions: [1, 3] });
    const envelope = event("compliance.status_changed", {}, 2);
    expect(envelope.data.toStatus).toBe("EXPIRED");

    const routed = await route(envelope);
    expect(deliveredTo(routed)).toEqual([v1.endpointId, v12.endpointId, v13.endpointId]);
    const [asV1, asV2, asV1Again] = await Promise.all(routed.map((r) => records.decode("delivery-request", r.message.value!)));
    // v1 has no EXPIRED: Avro resolution gives the enum's default.
    expect(asV1).toMatchObject({ schemaVersion: 1 });
    expect(JSON.parse(asV1!.body)).toEqual({ ...envelope, schemaVersion: 1, data: { ...envelope.data, toStatus: "UNKNOWN" } });
    expect(asV2).toMatchObject({ schemaVersion: 2 });
    expect(JSON.parse(asV2!.body)).toEqual(envelope);
    expect(asV1Again!.body).toBe(asV1!.body);
  });

  it("renders an event once per set of accepted versions, not once per endpoint, and both skips", async () => {
    const codec = createEventCodec({ registry: schemaRegistry, catalogue });
    const render = vi.spyOn(codec, "render");
    const counted = new EventRouter({ codec, records, endpointsOf: () => endpoints, naming: NAMING, retrySchedule: RETRY_SCHEDULE, metrics: createRouterMetrics(new Registry()), now: () => NOW });
    const [a, b] = [endpoint({ acceptedSchemaVersions: [1] }), endpoint({ acceptedSchemaVersions: [1] })];
    const v2 = endpoint({ acceptedSchemaVersions: [2, 1] });
    const [futureA, futureB] = [endpoint({ acceptedSchemaVersions: [3] }), endpoint({ acceptedSchemaVersions: [3] })];

    const routed = await counted.route(message(await upstream.encode(event("compliance.status_changed", {}, 2))));

    expect(render).toHaveBeenCalledTimes(3);
    expect(deliveredTo(routed)).toEqual([a.endpointId, b.endpointId, v2.endpointId]);
    const versions = await Promise.all(routed.filter((r) => r.endpointId).map(async (r) => (await records.decode("delivery-request", r.message.value!)).schemaVersion));
    expect(versions).toEqual([1, 1, 2]);
    expect(routed.filter((r) => r.topic === TOPICS.deliveryOutcome).map((r) => r.message.key)).toEqual([futureA.endpointId, futureB.endpointId]);
  });

  it("upgrades an old event to a newer accepted version, new optional fields at their defaults", async () => {
    const v2 = endpoint({ eventTypes: ["kyc.verification_completed"], acceptedSchemaVersions: [2] });
    const envelope = event("kyc.verification_completed", {}, 1);
    const [record] = await route(envelope);
    expect(record!.endpointId).toBe(v2.endpointId);
    const request = await records.decode("delivery-request", record!.message.value!);
    expect(request.schemaVersion).toBe(2);
    expect(JSON.parse(request.body)).toEqual({ ...envelope, schemaVersion: 2, data: { ...envelope.data, documentCountry: null } });
  });

  it("records a skipped outcome, not a silent drop, when no accepted version can be produced", async () => {
    const future = endpoint({ acceptedSchemaVersions: [3] });
    const current = endpoint({ acceptedSchemaVersions: [1] });
    const envelope = event("compliance.status_changed");

    const routed = await route(envelope);

    expect(deliveredTo(routed)).toEqual([current.endpointId]);
    const skipped = routed.find((r) => r.topic === TOPICS.deliveryOutcome)!;
    expect(skipped.endpointId).toBeUndefined();
    expect(skipped.message.key).toBe(future.endpointId);
    const outcome = await records.decode("delivery-outcome", skipped.message.value!);
    expect(outcome).toEqual({
      deliveryId: deliveryId(envelope.id, future.endpointId),
      eventId: envelope.id,
      eventType: "compliance.status_changed",
      endpointId: future.endpointId,
      organizationUuid: ORG,
      attempt: 0,
      result: "SKIPPED",
      statusCode: null,
      latencyMs: null,
      responseBody: null,
      errorClass: "schema_version_unavailable",
      errorMessage: expect.stringContaining("[3]"),
      attemptedAt: NOW,
      nextAttemptAt: null,
      replayId: null,
    });
    expect(await metricValue("novatrade_router_skipped_deliveries_total", { event_type: "compliance.status_changed" })).toBe(1);
    expect(await metricValue("novatrade_router_deliveries_total")).toBe(1);
  });
});

describe("bad input goes to the dead-letter topic", () => {
  /** Avro bytes of `value` under the catalogue schema of `type` v`version`, with that schema's registry id. */
  function writtenWith(type: string, version: number, value: unknown): Buffer {
    const schema = catalogue.eventSchema(type, version)!;
    return toWireFormat(schemaRegistry.add(schema.subject, schema.text), schema.type.toBuffer(value));
  }

  const cases: Array<[string, () => Promise<Buffer | null>, string, RegExp]> = [
    ["a tombstone (no value)", async () => null, "DecodeError", /no value/],
    ["an empty value", async () => Buffer.alloc(0), "DecodeError", /shorter than the 5-byte/],
    ["JSON instead of Avro (no magic byte)", async () => Buffer.from(JSON.stringify(sampleEvent("kyc.vies_check_failed"))), "DecodeError", /magic byte 123/],
    ["an unknown schema id", async () => toWireFormat(999_999_999, Buffer.from([2, 65])), "DecodeError", /unknown schema id 999999999/],
    [
      "an internal record's schema (a delivery outcome on the domain topic)",
      async () =>
        records.encode("delivery-outcome", {
          deliveryId: "dlv_x", eventId: "evt_aaaaaaaaaaaa", eventType: "kyc.vies_check_failed", endpointId: "ep_x", organizationUuid: ORG,
          attempt: 1, result: "SUCCEEDED", statusCode: 200, latencyMs: 5, responseBody: "ok", errorClass: null, errorMessage: null,
          attemptedAt: NOW, nextAttemptAt: null,
        }),
      "DecodeError",
      /internal record, not an event/,
    ],
    [
      "a truncated Avro payload",
      async () => {
        const bytes = await upstream.encode(sampleEvent("kyc.vies_check_failed"));
        return bytes.subarray(0, bytes.length - 12);
      },
      "DecodeError",
      /not valid Avro/,
    ],
    [
      "an event whose type is not the one of its schema",
      async () => writtenWith("compliance.status_changed", 1, { ...sampleEvent("compliance.status_changed"), type: "kyc.vies_check_failed" }),
      "ValidationError",
      /^type: kyc\.vies_check_failed written with the schema of compliance\.status_changed/,
    ],
    [
      "an unknown event type",
      async () => writtenWith("compliance.status_changed", 1, { ...sampleEvent("compliance.status_changed"), type: "billing.invoice_paid" }),
      "ValidationError",
      /^type: unknown event type/,
    ],
    [
      "an envelope that breaks the domain rules (organizationUuid)",
      async () => writtenWith("compliance.status_changed", 1, { ...sampleEvent("compliance.status_changed"), organizationUuid: "acme" }),
      "ValidationError",
      /^organizationUuid: must be a UUID/,
    ],
    [
      "a schemaVersion that is not the schema's",
      async () => writtenWith("compliance.status_changed", 1, { ...sampleEvent("compliance.status_changed"), schemaVersion: 2 }),
      "ValidationError",
      /^schemaVersion: says 2/,
    ],
    [
      "an envelope missing a field (a foreign schema without source)",
      async () => {
        const foreign = {
          type: "record",
          name: "LegacyEvent",
          namespace: "com.legacy",
          fields: ["id", "type", "createdAt", "organizationUuid"].map((name) => ({ name, type: "string" })).concat([
            { name: "schemaVersion", type: "int" },
            { name: "data", type: { type: "map", values: "string" } as never },
          ]),
        };
        const id = schemaRegistry.add("com.legacy.LegacyEvent", JSON.stringify(foreign));
        const { id: eventId, type, createdAt } = sampleEvent("kyc.vies_check_failed");
        const payload = parseEventSchema(foreign).toBuffer({ id: eventId, type, createdAt, organizationUuid: ORG, schemaVersion: 1, data: {} });
        return toWireFormat(id, payload);
      },
      "ValidationError",
      /^source: is required/,
    ],
    [
      "an event whose delivered JSON body is larger than MAX_EVENT_BODY_BYTES",
      async () => {
        const event = sampleEvent("kyc.vies_check_failed");
        // Control characters: one Avro byte each, six in JSON (\u0001), so a small event renders huge.
        return upstream.encode({ ...event, data: { ...event.data, companyName: "\u0001".repeat(MAX_EVENT_BODY_BYTES / 6 + 1_000) } });
      },
      "EventTooLargeError",
      /^body: too_large: the event's JSON body is \d+ bytes, more than the 262144 bytes/,
    ],
  ];

  it.each(cases)("%s", async (_name, build, errorClass, reason) => {
    endpoint({ eventTypes: ["compliance.*", "kyc.*"] });
    const value = await build();
    const poison = message(value, { key: Buffer.from("upstream-key"), headers: { "x-producer": "legacy" }, offset: "9007" });

    const routed = await router.route(poison);

    expect(routed).toHaveLength(1);
    const [record] = routed;
    expect(record!.topic).toBe(TOPICS.deadLetter);
    expect(record!.endpointId).toBeUndefined();
    expect(record!.message.key).toEqual(Buffer.from("upstream-key"));
    expect(record!.message.headers).toEqual({ "novatrade-error-class": errorClass });
    const deadLetter = await records.decode("dead-letter", record!.message.value!);
    expect(deadLetter).toMatchObject({
      originalTopic: TOPICS.domain,
      originalPartition: 2,
      originalOffset: 9007,
      originalTimestamp: NOW - 1_000,
      key: Buffer.from("upstream-key"),
      headers: [{ key: "x-producer", value: Buffer.from("legacy") }],
      errorClass,
      failedBy: "router",
      failedAt: NOW,
    });
    expect(deadLetter.reason).toMatch(reason);
    // The original bytes, untouched: it can be fixed and produced again.
    expect(deadLetter.value === null ? null : Buffer.from(deadLetter.value)).toEqual(value === null ? null : Buffer.from(value));
    expect(await metricValue("novatrade_router_dead_letters_total", { error_class: errorClass })).toBe(1);
    expect(await metricValue("novatrade_router_events_total", { outcome: "dead_lettered" })).toBe(1);
  });

  it("does not blame the record when the registry cannot be reached: route() throws a retriable error and writes nothing", async () => {
    endpoint({ eventTypes: ["kyc.*"] });
    const bytes = await upstream.encode(sampleEvent("kyc.vies_check_failed"));
    schemaRegistry.unavailable = true;

    await expect(router.route(message(bytes))).rejects.toMatchObject({ retriable: true });
    expect(await metricValue("novatrade_router_dead_letters_total")).toBe(0);

    // Once the registry is back, the same record routes normally (the failure was not cached).
    schemaRegistry.unavailable = false;
    expect(await router.route(message(bytes))).toHaveLength(1);
  });
});
