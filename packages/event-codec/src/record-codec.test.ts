import type { types } from "avsc";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DecodeError, ValidationError } from "@novatrade/domain";
import { parseInternalSchema } from "./avro-types.js";
import { InMemorySchemaRegistry } from "./in-memory-schema-registry.js";
import type { Complete, InternalRecordName, InternalRecords } from "./internal-records.js";
import { loadSchemaCatalogue } from "./load-schema-catalogue.js";
import { RecordCodec } from "./record-codec.js";
import type { SchemaCatalogue } from "./schema-catalogue.js";
import { toWireFormat } from "./wire-format.js";

/** One complete record per internal schema; typed, so the interfaces must list every field. */
const SAMPLES: { [N in InternalRecordName]: Complete<InternalRecords[N]> } = {
  "delivery-request": {
    deliveryId: "dlv_7f3a9c",
    eventId: "evt_a1b2c3d4e5f6",
    eventType: "compliance.status_changed",
    endpointId: "ep_42",
    organizationUuid: "550e8400-e29b-41d4-a716-446655440000",
    partnerUuid: null,
    schemaVersion: 1,
    body: '{"id":"evt_a1b2c3d4e5f6"}',
    attempt: 2,
    retrySchedule: [5_000, 300_000, 1_800_000],
    firstAttemptAt: 1_776_853_800_000,
    notBefore: 1_776_853_805_000,
    isMeta: false,
    replayId: null,
    createdAt: 1_776_853_800_500,
  },
  "delivery-outcome": {
    deliveryId: "dlv_7f3a9c",
    eventId: "evt_a1b2c3d4e5f6",
    eventType: "compliance.status_changed",
    endpointId: "ep_42",
    organizationUuid: "550e8400-e29b-41d4-a716-446655440000",
    attempt: 2,
    result: "FAILED_RETRYING",
    statusCode: 503,
    latencyMs: 120,
    responseBody: "upstream unavailable",
    errorClass: "http_status",
    errorMessage: "HTTP 503",
    attemptedAt: 1_776_853_805_000,
    nextAttemptAt: 1_776_854_105_000,
    replayId: null,
  },
  "endpoint-config": {
    endpointId: "ep_42",
    organizationUuid: "550e8400-e29b-41d4-a716-446655440000",
    url: "https://hooks.example.com/novatrade",
    description: "ERP sync",
    eventTypes: ["compliance.*", "kyc.vies_check_failed"],
    partnerIds: null,
    acceptedSchemaVersions: [1, 2],
    secrets: [{ secretId: "sec_1", ciphertext: "v1:key1:bm9uY2U=:Y2lwaGVy", notBefore: 1_776_000_000_000, expiresAt: null }],
    status: "ACTIVE",
    maxInFlight: 10,
    rateLimitPerSecond: null,
    createdAt: 1_776_000_000_000,
    updatedAt: 1_776_853_800_000,
    revision: 3,
  },
  "dead-letter": {
    originalTopic: "novatrade.events",
    originalPartition: 3,
    originalOffset: 1_234_567,
    originalTimestamp: 1_776_853_800_000,
    key: Buffer.from("ord_1042"),
    value: Buffer.from([1, 2, 3]),
    headers: [{ key: "traceparent", value: Buffer.from("00-abc-def-01") }],
    reason: "unknown schema id 424242",
    errorClass: "DecodeError",
    failedBy: "router",
    failedAt: 1_776_853_801_000,
  },
};

let catalogue: SchemaCatalogue;
let registry: InMemorySchemaRegistry;
let codec: RecordCodec;
beforeAll(async () => {
  catalogue = await loadSchemaCatalogue();
});
beforeEach(() => {
  registry = new InMemorySchemaRegistry().addCatalogue(catalogue);
  codec = new RecordCodec({ registry, catalogue });
});

const names = Object.keys(SAMPLES) as InternalRecordName[];

describe("internal records", () => {
  it.each(names)("%s: the TypeScript interface lists exactly the schema's fields", (name) => {
    const fields = (catalogue.internalSchema(name)!.type as types.RecordType).fields.map((field) => field.name);
    expect(Object.keys(SAMPLES[name])).toEqual(fields);
  });

  it.each(names)("%s round-trips, instants as epoch-millisecond numbers", async (name) => {
    const decoded = await new RecordCodec({ registry, catalogue }).decode(name, await codec.encode(name, SAMPLES[name]));
    expect(decoded).toStrictEqual(SAMPLES[name]);
  });

  it("fills defaults for optional fields left out", async () => {
    const { description: _, maxInFlight: __, partnerIds: ___, rateLimitPerSecond: ____, ...required } = SAMPLES["endpoint-config"];
    const decoded = await codec.decode("endpoint-config", await codec.encode("endpoint-config", required));
    expect(decoded).toMatchObject({ description: "", maxInFlight: 10, partnerIds: null, rateLimitPerSecond: null });
  });

  it("names the wrong field", async () => {
    const bad = { ...SAMPLES["endpoint-config"], secrets: [{ ...SAMPLES["endpoint-config"].secrets[0]!, notBefore: "soon" }] };
    await expect(codec.encode("endpoint-config", bad as never)).rejects.toMatchObject({
      constructor: ValidationError,
      field: "secrets[0].notBefore",
    });
  });

  it("reads a record written with an older schema, through resolution", async () => {
    // The delivery-request of an older build, before replayId existed.
    const current = catalogue.internalSchema("delivery-request")!;
    const older = JSON.parse(current.text);
    older.fields = older.fields.filter((field: { name: string }) => field.name !== "replayId");
    const id = registry.add(current.subject, JSON.stringify(older));
    const { replayId: _, ...olderRecord } = SAMPLES["delivery-request"];
    const decoded = await codec.decode("delivery-request", toWireFormat(id, parseInternalSchema(older).toBuffer(olderRecord)));
    expect(decoded).toStrictEqual({ ...SAMPLES["delivery-request"], replayId: null });
  });

  it("refuses a record of another schema", async () => {
    const buffer = await codec.encode("delivery-outcome", SAMPLES["delivery-outcome"]);
    await expect(codec.decode("delivery-request", buffer)).rejects.toThrow(DecodeError);
    await expect(codec.decode("delivery-request", buffer)).rejects.toThrow(/is com.novatrade.internal.DeliveryOutcome, expected com.novatrade.internal.DeliveryRequest/);
  });
});
