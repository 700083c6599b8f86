import { randomUUID } from "node:crypto";
import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import type { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { topicNames } from "@novatrade/domain";
import { sampleEvent, toWireFormat, type DeadLetterRecord } from "@novatrade/event-codec";
import type { OutgoingMessage } from "@novatrade/kafka";
import { infraEnv } from "../support/infra-env.js";
import { startPipeline, TEST_ORGANIZATION, type Pipeline } from "../support/pipeline.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { waitUntil } from "../support/wait-until.js";

/** A record an upstream producer got wrong, what it is, and what the dead letter must say. */
interface Poison {
  what: string;
  message: OutgoingMessage;
  errorClass: "DecodeError" | "ValidationError" | "EventTooLargeError";
  reason: RegExp;
}

async function deadLettersCounted(registry: Registry | null): Promise<Record<string, number>> {
  const metric = registry?.getSingleMetric("novatrade_router_dead_letters_total");
  if (!metric) throw new Error("the router has no novatrade_router_dead_letters_total metric");
  const counts: Record<string, number> = {};
  for (const value of (await metric.get()).values) counts[String(value.labels.error_class)] = value.value;
  return counts;
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, n) => sum + n, 0);

/**
 * SPEC §7: an undecodable or invalid domain event goes to the dead-letter topic with the reason,
 * is counted, and never stops the consumer. The poison is produced raw, the way a broken or
 * foreign producer would, onto the real domain topic.
 */
describe("dead letters (real broker, registry, loopback receiver)", () => {
  let pipeline: Pipeline;
  let receiver: Receiver;
  let domainTopic: string;

  beforeAll(async () => {
    pipeline = await startPipeline();
    await pipeline.startRouter();
    await pipeline.startSender();
    receiver = await startReceiver();
    await pipeline.addEndpoint({ url: receiver.url, eventTypes: ["kyc.*", "compliance.*"] });
    domainTopic = topicNames(pipeline.naming).domain;
  });

  afterAll(async () => {
    await pipeline?.close();
    await receiver?.close();
  });

  /** How many records a topic holds (every partition, from the start). */
  async function topicSize(topic: string): Promise<number> {
    const offsets = await pipeline.kafka.admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, partition) => sum + Number(BigInt(partition.high) - BigInt(partition.low)), 0);
  }

  /**
   * Resolves once the router has committed everything on the domain topic; it commits a batch
   * only after all the batch's writes were acknowledged, so its output is complete by then.
   */
  async function routerCaughtUp(): Promise<void> {
    const groupId = `${pipeline.prefix}router`;
    await waitUntil(
      async () => {
        const [ends, committed] = await Promise.all([
          pipeline.kafka.admin.fetchTopicOffsets(domainTopic),
          pipeline.kafka.admin.fetchGroupOffsets(groupId, [domainTopic]),
        ]);
        return ends.every((end) => {
          if (end.high === end.low) return true;
          const position = committed.find((entry) => entry.partition === end.partition)?.offset;
          return position !== null && position !== undefined && BigInt(position) >= BigInt(end.high);
        });
      },
      { what: "the router to commit everything on the domain topic" },
    );
  }

  /** Avro bytes of `value` under this build's schema of compliance.status_changed v1, with its real registry id. */
  async function writtenAsStatusChanged(value: unknown): Promise<Buffer> {
    const valid = await pipeline.codec.encode(sampleEvent("compliance.status_changed"));
    const schema = pipeline.catalogue.eventSchema("compliance.status_changed", 1)!;
    return toWireFormat(valid.readInt32BE(1), schema.type.toBuffer(value));
  }

  /** Registers a schema this build has never heard of (a foreign producer's) and writes `value` with it. */
  async function writtenWithForeignSchema(schema: Record<string, unknown>, value: unknown): Promise<Buffer> {
    const registry = new SchemaRegistry({ host: infraEnv.schemaRegistryUrl });
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject: `${pipeline.prefix}${String(schema.name)}` },
    );
    return registry.encode(id, value);
  }

  async function poisons(): Promise<Poison[]> {
    const keyed = (value: Buffer | null, headers: Record<string, string> = {}): OutgoingMessage => ({ key: TEST_ORGANIZATION, value, headers });
    const statusChanged = sampleEvent("compliance.status_changed", { seed: randomUUID() });
    const valid = await pipeline.codec.encode(sampleEvent("kyc.vies_check_failed", { seed: randomUUID() }));
    return [
      {
        what: "JSON instead of Avro (no magic byte), without a key",
        message: { key: null, value: Buffer.from(JSON.stringify(statusChanged)), headers: { "x-origin": "legacy-json" } },
        errorClass: "DecodeError",
        reason: /magic byte 123/,
      },
      {
        what: "the magic byte and a schema id the registry does not have",
        message: keyed(toWireFormat(999_999_999, Buffer.from([0x02, 0x41, 0x42]))),
        errorClass: "DecodeError",
        reason: /unknown schema id 999999999/,
      },
      {
        what: "a record of an internal schema (a delivery outcome) on the domain topic",
        message: keyed(
          await pipeline.records.encode("delivery-outcome", {
            deliveryId: "dlv_0123456789abcdef",
            eventId: statusChanged.id,
            eventType: statusChanged.type,
            endpointId: "ep_elsewhere",
            organizationUuid: TEST_ORGANIZATION,
            attempt: 1,
            result: "SUCCEEDED",
            statusCode: 200,
            latencyMs: 12,
            responseBody: "ok",
            errorClass: null,
            errorMessage: null,
            attemptedAt: Date.now(),
            nextAttemptAt: null,
          }),
        ),
        errorClass: "DecodeError",
        reason: /internal record, not an event/,
      },
      {
        what: "a valid event's bytes cut short",
        message: keyed(valid.subarray(0, valid.length - 20)),
        errorClass: "DecodeError",
        reason: /not valid Avro/,
      },
      {
        what: "a tombstone (null value)",
        message: keyed(null),
        errorClass: "DecodeError",
        reason: /no value/,
      },
      {
        what: "an event that says it is another type than its schema's",
        message: keyed(await writtenAsStatusChanged({ ...statusChanged, type: "kyc.vies_check_failed" })),
        errorClass: "ValidationError",
        reason: /^type: kyc\.vies_check_failed written with the schema of compliance\.status_changed/,
      },
      {
        what: "an event of an unknown type",
        message: keyed(await writtenAsStatusChanged({ ...statusChanged, type: "billing.invoice_paid" })),
        errorClass: "ValidationError",
        reason: /^type: unknown event type "billing\.invoice_paid"/,
      },
      {
        what: "an envelope with an invalid field (organizationUuid)",
        message: keyed(await writtenAsStatusChanged({ ...statusChanged, organizationUuid: "acme-gmbh" })),
        errorClass: "ValidationError",
        reason: /^organizationUuid: must be a UUID/,
      },
      {
        // Bypassing the producer library's size check: ~200 KB of Avro whose JSON body is 1.2 MB
        // (control characters are escaped as \u0001), so its delivery request could never be
        // written under the broker's 1 MiB record limit.
        what: "an event too large to deliver",
        message: keyed(
          await pipeline.codec.encode({
            ...sampleEvent("kyc.vies_check_failed", { seed: randomUUID() }),
            organizationUuid: TEST_ORGANIZATION,
            data: { ...sampleEvent("kyc.vies_check_failed").data, companyName: "\u0001".repeat(200_000) },
          }),
        ),
        errorClass: "EventTooLargeError",
        reason: /^body: too_large: the event's JSON body is \d+ bytes, more than the 262144 bytes/,
      },
      {
        what: "a foreign producer's envelope missing a field (source)",
        message: keyed(
          await writtenWithForeignSchema(
            {
              type: "record",
              name: "LegacyEvent",
              namespace: "com.legacy.events",
              fields: [
                { name: "id", type: "string" },
                { name: "type", type: "string" },
                { name: "schemaVersion", type: "int" },
                { name: "createdAt", type: "string" },
                { name: "organizationUuid", type: "string" },
                { name: "data", type: { type: "map", values: "string" } },
              ],
            },
            { id: statusChanged.id, type: "kyc.vies_check_failed", schemaVersion: 1, createdAt: statusChanged.createdAt, organizationUuid: TEST_ORGANIZATION, data: {} },
          ),
        ),
        errorClass: "ValidationError",
        reason: /^source: is required/,
      },
    ];
  }

  const sameBytes = (actual: Buffer | null | undefined, expected: Buffer | string | null | undefined) =>
    expect(actual == null ? null : Buffer.from(actual).toString("hex")).toBe(expected == null ? null : Buffer.from(expected).toString("hex"));

  test("every poison record is dead-lettered with its reason, error class and original bytes, counted, and the router keeps going", async () => {
    const before = await deadLettersCounted(pipeline.routerRegistry);
    const list = await poisons();
    const produced: Array<{ poison: Poison; partition: number; offset: number }> = [];
    for (const poison of list) {
      const [ack] = await pipeline.producer.send(domainTopic, [poison.message]);
      produced.push({ poison, partition: ack!.partition, offset: Number(ack!.baseOffset) });
    }
    // A valid event of the same organization (same key, same partition) after the poison.
    const validId = await pipeline.publish({ type: "kyc.vies_check_failed", data: sampleEvent("kyc.vies_check_failed").data });

    const [request] = await receiver.waitForRequests(1);
    expect(request!.json.id).toBe(validId);
    const isOurs = (record: DeadLetterRecord, entry: (typeof produced)[number]) =>
      record.originalPartition === entry.partition && record.originalOffset === entry.offset;
    const deadLetters = await pipeline.deadLetters.waitFor(
      (records) => produced.every((entry) => records.some((record) => isOurs(record, entry))),
      `a dead letter for each of ${produced.length} poison records (missing: ${produced.filter((entry) => !pipeline.deadLetters.records.some((record) => isOurs(record, entry))).map((entry) => entry.poison.what).join(", ")}; have ${pipeline.deadLetters.records.length})`,
    );

    for (const entry of produced) {
      const { poison } = entry;
      const matches = deadLetters.filter((record) => isOurs(record, entry));
      expect(matches, poison.what).toHaveLength(1);
      const deadLetter = matches[0]!;
      expect(deadLetter, poison.what).toMatchObject({ originalTopic: domainTopic, errorClass: poison.errorClass, failedBy: "router" });
      expect(deadLetter.reason, poison.what).toMatch(poison.reason);
      sameBytes(deadLetter.value, poison.message.value);
      sameBytes(deadLetter.key, poison.message.key);
      for (const [key, value] of Object.entries(poison.message.headers ?? {})) {
        expect((deadLetter.headers ?? []).map((header) => [header.key, header.value?.toString("utf8")]), poison.what).toContainEqual([key, value]);
      }
    }
    // Only the poison was dead-lettered, once each; the valid event was delivered.
    await routerCaughtUp();
    expect(await topicSize(topicNames(pipeline.naming).deadLetter)).toBe(list.length);
    expect(deadLetters.some((record) => record.reason.includes(validId))).toBe(false);
    await pipeline.outcomes.waitFor(
      (records) => records.some((outcome) => outcome.eventId === validId && outcome.result === "SUCCEEDED"),
      "the valid event's SUCCEEDED outcome",
    );

    const after = await deadLettersCounted(pipeline.routerRegistry);
    expect(total(after) - total(before)).toBe(list.length);
    for (const errorClass of ["DecodeError", "ValidationError"]) {
      const expected = list.filter((poison) => poison.errorClass === errorClass).length;
      expect((after[errorClass] ?? 0) - (before[errorClass] ?? 0), errorClass).toBe(expected);
    }
  });

  test("a restarted router resumes after the dead-lettered records instead of dead-lettering them again", async () => {
    const deadLetterTopic = topicNames(pipeline.naming).deadLetter;
    await routerCaughtUp();
    const before = await topicSize(deadLetterTopic);
    expect(before).toBeGreaterThan(0);
    await pipeline.stopRouter();
    await pipeline.startRouter();

    const [poison] = await poisons();
    const [ack] = await pipeline.producer.send(domainTopic, [{ ...poison!.message, key: TEST_ORGANIZATION }]);
    const validId = await pipeline.publish({ type: "compliance.decision_made", data: sampleEvent("compliance.decision_made").data });

    await waitUntil(() => receiver.eventIds().has(validId), { what: `${validId} delivered by the restarted router` });
    await pipeline.deadLetters.waitFor(
      (records) => records.some((record) => record.originalOffset === Number(ack!.baseOffset) && record.originalPartition === ack!.partition),
      "the new poison record's dead letter",
    );
    await routerCaughtUp();
    // The new router's registry counts only what it dead-lettered: the one new record.
    expect(total(await deadLettersCounted(pipeline.routerRegistry))).toBe(1);
    expect(await topicSize(deadLetterTopic)).toBe(before + 1);
  });
});
