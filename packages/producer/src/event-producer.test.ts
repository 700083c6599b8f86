import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ValidationError, type EventEnvelope } from "@novatrade/domain";
import {
  EventCodec,
  EventTooLargeError,
  InMemorySchemaRegistry,
  loadSchemaCatalogue,
  MAX_EVENT_BODY_BYTES,
  sampleEvent,
  type SchemaCatalogue,
} from "@novatrade/event-codec";
import type { OutgoingMessage, ProduceAck } from "@novatrade/kafka";
import { EVENT_CONTENT_TYPE } from "./event-headers.js";
import { createEventProducer, type EventProducer } from "./event-producer.js";
import type { EventInput } from "./event-input.js";

/** A KafkaProducer that records what it is asked to send and acks like one partition would. */
class RecordingProducer {
  readonly sent: Array<{ topic: string; messages: OutgoingMessage[] }> = [];
  failWith: Error | undefined;

  async send(topic: string, messages: OutgoingMessage[]): Promise<ProduceAck[]> {
    if (this.failWith) throw this.failWith;
    const baseOffset = String(this.sent.reduce((count, batch) => count + batch.messages.length, 0));
    this.sent.push({ topic, messages });
    return [{ topic, partition: 4, baseOffset }];
  }
}

const ORG = "550e8400-e29b-41d4-a716-446655440000";
const PARTNER = "11111111-2222-4333-8444-555555555555";
const NOW = new Date("2026-04-22T10:30:00.123Z");
const TOPIC = "test.domain-events";

let catalogue: SchemaCatalogue;
let registry: InMemorySchemaRegistry;
let codec: EventCodec;
let kafka: RecordingProducer;
let producer: EventProducer;
let ids: number;

beforeAll(async () => {
  catalogue = await loadSchemaCatalogue();
});
beforeEach(() => {
  registry = new InMemorySchemaRegistry({ firstId: 7 }).addCatalogue(catalogue);
  codec = new EventCodec({ registry, catalogue });
  kafka = new RecordingProducer();
  ids = 0;
  producer = createEventProducer({
    producer: kafka,
    codec,
    catalogue,
    domainTopic: TOPIC,
    clock: () => NOW,
    newEventId: () => `evt_${String(++ids).padStart(24, "0")}`,
  });
});

const viesData = () => structuredClone(sampleEvent("kyc.vies_check_failed").data);
const decisionData = () => structuredClone(sampleEvent("compliance.decision_made").data);

const catchError = async (work: () => Promise<unknown>): Promise<unknown> => {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
};

describe("publish", () => {
  it("fills the defaults: generated id, clock's createdAt, newest schema version, no partner", async () => {
    const published = await producer.publish({ type: "compliance.status_changed", source: "SYSTEM", organizationUuid: ORG, data: sampleEvent("compliance.status_changed", { version: 2 }).data });

    const newest = catalogue.events.get("compliance.status_changed")!.latest.version;
    expect(newest).toBe(2);
    expect(published.envelope).toEqual({
      id: "evt_000000000000000000000001",
      type: "compliance.status_changed",
      schemaVersion: newest,
      source: "SYSTEM",
      createdAt: "2026-04-22T10:30:00.123Z",
      organizationUuid: ORG,
      partnerUuid: null,
      data: sampleEvent("compliance.status_changed", { version: 2 }).data,
    });
    expect(published).toMatchObject({ id: "evt_000000000000000000000001", type: "compliance.status_changed", topic: TOPIC, partition: 4, offset: "0" });
  });

  it("writes what the codec decodes back to the same envelope", async () => {
    const published = await producer.publish({ type: "kyc.vies_check_failed", source: "WEB_APP", organizationUuid: ORG, partnerUuid: PARTNER, data: viesData() });

    expect(kafka.sent).toHaveLength(1);
    const [{ topic, messages }] = kafka.sent as [{ topic: string; messages: OutgoingMessage[] }];
    expect(topic).toBe(TOPIC);
    expect(messages).toHaveLength(1);
    const decoded = await new EventCodec({ registry, catalogue }).decode(messages[0]!.value!);
    expect(decoded.envelope).toStrictEqual(published.envelope);
  });

  it("keys by organization and sets the routing headers", async () => {
    const published = await producer.publish({ type: "compliance.decision_made", source: "API", organizationUuid: ORG, partnerUuid: PARTNER, data: decisionData() });

    const message = kafka.sent[0]!.messages[0]!;
    expect(message.key).toBe(ORG);
    expect(message.headers).toEqual({
      "content-type": EVENT_CONTENT_TYPE,
      "event-id": published.id,
      "event-type": "compliance.decision_made",
      "schema-version": "1",
    });
    expect(EVENT_CONTENT_TYPE).toBe("application/vnd.novatrade.event+avro");
  });

  it("keeps what the producer says: id, createdAt, schema version", async () => {
    const published = await producer.publish({
      type: "compliance.status_changed",
      schemaVersion: 1,
      id: "evt_fromtheupstream0001",
      createdAt: "2026-01-02T03:04:05Z",
      source: "WEB_APP",
      organizationUuid: ORG,
      data: sampleEvent("compliance.status_changed", { version: 1 }).data,
    });

    // createdAt comes back with milliseconds: what Avro keeps, so what consumers decode.
    expect(published.envelope).toMatchObject({ id: "evt_fromtheupstream0001", schemaVersion: 1, createdAt: "2026-01-02T03:04:05.000Z" });
    expect(kafka.sent[0]!.messages[0]!.headers).toMatchObject({ "event-id": "evt_fromtheupstream0001", "schema-version": "1" });
  });

  it("returns instants as consumers decode them, with milliseconds, without asking the registry for the schema", async () => {
    const published = await producer.publish({
      type: "kyc.vies_check_failed",
      createdAt: "2026-01-02T03:04:05Z",
      source: "SYSTEM",
      organizationUuid: ORG,
      data: { ...viesData(), checkedAt: "2026-04-22T06:00:00Z" },
    });

    expect(published.envelope.createdAt).toBe("2026-01-02T03:04:05.000Z");
    expect(published.envelope.data.checkedAt).toBe("2026-04-22T06:00:00.000Z");
    expect(registry.calls.getSchema).toBe(0);
  });

  it("writes UUIDs in lower case, so one organization always has one key", async () => {
    const published = await producer.publish({ type: "kyc.vies_check_failed", source: "SYSTEM", organizationUuid: ORG.toUpperCase(), partnerUuid: PARTNER.toUpperCase(), data: viesData() });

    expect(published.envelope.organizationUuid).toBe(ORG);
    expect(published.envelope.partnerUuid).toBe(PARTNER);
    expect(kafka.sent[0]!.messages[0]!.key).toBe(ORG);
  });

  it("generates a distinct id for each event by default", async () => {
    const unseeded = createEventProducer({ producer: kafka, codec, catalogue, domainTopic: TOPIC });
    const input: EventInput = { type: "kyc.vies_check_failed", source: "SYSTEM", organizationUuid: ORG, data: viesData() };
    const first = await unseeded.publish(input);
    const second = await unseeded.publish(input);

    expect(first.id).toMatch(/^evt_[0-9a-f]{24}$/);
    expect(second.id).toMatch(/^evt_[0-9a-f]{24}$/);
    expect(first.id).not.toBe(second.id);
    expect(Date.parse(first.envelope.createdAt)).toBeGreaterThan(Date.parse("2025-01-01T00:00:00Z"));
  });
});

describe("invalid input produces nothing", () => {
  const cases: Array<[string, () => EventInput, string]> = [
    ["a data field of the wrong type", () => ({ type: "kyc.vies_check_failed", source: "SYSTEM", organizationUuid: ORG, data: { ...viesData(), countryCode: 49 } }), "data.countryCode"],
    ["a missing data field", () => ({ type: "kyc.vies_check_failed", source: "SYSTEM", organizationUuid: ORG, data: { ...viesData(), buyerId: undefined } }), "data.buyerId"],
    ["a data field the schema does not declare", () => ({ type: "kyc.vies_check_failed", source: "SYSTEM", organizationUuid: ORG, data: { bad: 1 } }), "data."],
    ["an enum symbol that does not exist", () => ({ type: "compliance.decision_made", source: "SYSTEM", organizationUuid: ORG, data: { ...decisionData(), verdict: "MAYBE" } }), "data.verdict"],
    ["an unknown type", () => ({ type: "kyc.vies_check_passed", source: "SYSTEM", organizationUuid: ORG, data: viesData() }), "type"],
    ["no type", () => ({ source: "SYSTEM", organizationUuid: ORG, data: viesData() }) as unknown as EventInput, "type"],
    ["a schema version the catalogue does not have", () => ({ type: "kyc.vies_check_failed", schemaVersion: 9, source: "SYSTEM", organizationUuid: ORG, data: viesData() }), "schemaVersion"],
    ["an organization that is not a UUID", () => ({ type: "kyc.vies_check_failed", source: "SYSTEM", organizationUuid: "acme", data: viesData() }), "organizationUuid"],
    ["a partner that is not a UUID", () => ({ type: "kyc.vies_check_failed", source: "SYSTEM", organizationUuid: ORG, partnerUuid: "dealer-1", data: viesData() }), "partnerUuid"],
    ["no source", () => ({ type: "kyc.vies_check_failed", organizationUuid: ORG, data: viesData() }) as unknown as EventInput, "source"],
    ["an unknown source", () => ({ type: "kyc.vies_check_failed", source: "CRON", organizationUuid: ORG, data: viesData() }) as unknown as EventInput, "source"],
    ["a malformed id", () => ({ type: "kyc.vies_check_failed", id: "42", source: "SYSTEM", organizationUuid: ORG, data: viesData() }), "id"],
    ["a createdAt that is not UTC ISO 8601", () => ({ type: "kyc.vies_check_failed", createdAt: "22/04/2026", source: "SYSTEM", organizationUuid: ORG, data: viesData() }), "createdAt"],
    ["data that is not an object", () => ({ type: "kyc.vies_check_failed", source: "SYSTEM", organizationUuid: ORG, data: [1] as unknown as Record<string, unknown> }), "data"],
    [
      "an event whose JSON body is larger than MAX_EVENT_BODY_BYTES",
      () => ({ type: "kyc.vies_check_failed", source: "SYSTEM", organizationUuid: ORG, data: { ...viesData(), companyName: "x".repeat(MAX_EVENT_BODY_BYTES) } }),
      "body",
    ],
  ];

  it.each(cases)("%s: ValidationError naming the field", async (_name, input, field) => {
    const error = await catchError(() => producer.publish(input()));

    expect(error).toBeInstanceOf(ValidationError);
    const { field: named, message } = error as ValidationError;
    if (field.endsWith(".")) expect(named.startsWith(field)).toBe(true);
    else expect(named).toBe(field);
    expect(message.startsWith(`${named}: `)).toBe(true);
    expect(kafka.sent).toEqual([]);
  });

  it("the size limit is on the JSON body: an event just under it is produced, one byte more is refused as too_large", async () => {
    const input = (companyName: string): EventInput => ({ type: "kyc.vies_check_failed", source: "SYSTEM", organizationUuid: ORG, data: { ...viesData(), companyName } });
    const base = Buffer.byteLength(JSON.stringify((await producer.prepare(input(""))).envelope));
    await producer.publish(input("x".repeat(MAX_EVENT_BODY_BYTES - base)));
    expect(kafka.sent).toHaveLength(1);

    const error = await catchError(() => producer.publish(input("x".repeat(MAX_EVENT_BODY_BYTES - base + 1))));
    expect(error).toBeInstanceOf(EventTooLargeError);
    expect((error as EventTooLargeError).message).toBe(
      `body: too_large: the event's JSON body is ${MAX_EVENT_BODY_BYTES + 1} bytes, more than the 262144 bytes (256 KiB) an event may have`,
    );
    expect(kafka.sent).toHaveLength(1);
  });

  it("names the undeclared field", async () => {
    const error = (await catchError(() =>
      producer.publish({ type: "kyc.vies_check_failed", source: "SYSTEM", organizationUuid: ORG, data: { ...viesData(), bad: 1 } }),
    )) as ValidationError;
    expect(error.field).toBe("data.bad");
  });

  it("lists the known types when the type is unknown", async () => {
    const error = (await catchError(() => producer.publish({ type: "kyc.nope", source: "SYSTEM", organizationUuid: ORG, data: {} }))) as ValidationError;
    expect(error.message).toContain("kyc.vies_check_failed");
  });

  it("validates before asking the registry", async () => {
    registry.unavailable = true;
    const error = await catchError(() => producer.publish({ type: "kyc.vies_check_failed", source: "SYSTEM", organizationUuid: ORG, data: { bad: 1 } }));
    expect(error).toBeInstanceOf(ValidationError);
    expect(registry.calls.getRegistryIdBySchema).toBe(0);
  });
});

describe("failures", () => {
  it("an unreachable registry fails the publish before anything is sent", async () => {
    registry.unavailable = true;
    const error = await catchError(() => producer.publish({ type: "kyc.vies_check_failed", source: "SYSTEM", organizationUuid: ORG, data: viesData() }));
    expect(error).not.toBeInstanceOf(ValidationError);
    expect((error as Error).name).toBe("SchemaRegistryError");
    expect(kafka.sent).toEqual([]);
  });

  it("a failed write is the producer's error, passed through", async () => {
    kafka.failWith = Object.assign(new Error("broker down"), { retriable: true });
    const error = await catchError(() => producer.publish({ type: "kyc.vies_check_failed", source: "SYSTEM", organizationUuid: ORG, data: viesData() }));
    expect(error).toBe(kafka.failWith);
  });
});

describe("prepare", () => {
  it("validates and encodes without sending", async () => {
    const prepared = await producer.prepare({ type: "kyc.vies_check_failed", source: "SYSTEM", organizationUuid: ORG, data: viesData() });
    expect(prepared.key).toBe(ORG);
    expect(prepared.headers["event-id"]).toBe(prepared.envelope.id);
    const decoded: EventEnvelope = (await codec.decode(prepared.value)).envelope;
    expect(decoded).toStrictEqual(prepared.envelope);
    expect(kafka.sent).toEqual([]);
  });
});
