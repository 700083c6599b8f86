import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { deliveryId, deliveryTopic, topicNames, ValidationError } from "@novatrade/domain";
import { sampleEvent } from "@novatrade/event-codec";
import type { EndpointConfig, EndpointRegistration } from "@novatrade/endpoint-config";
import type { EventInput, PublishedEvent } from "@novatrade/producer";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { waitUntil } from "../support/wait-until.js";

/**
 * Who gets which event (SPEC §3), end to end: real router and sender on their own topics, the
 * real broker and registry, loopback receivers.
 *
 * Negatives ("never arrives") are proven without sleeping: each test publishes the events that
 * must not arrive first and a sentinel that must arrive last, waits for the sentinel, then waits
 * until the router has committed past every event it published (it commits a batch only after
 * every write of the batch was acknowledged). From then on an endpoint's delivery topic holds
 * everything the router will ever write for those events, so its exact record count, together
 * with what the receiver got, shows that nothing else was or will be delivered.
 */
describe("routing (real broker, registry, loopback receivers)", () => {
  let pipeline: Pipeline;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    pipeline = await startPipeline();
    await pipeline.startRouter();
    await pipeline.startSender();
  });

  afterAll(async () => {
    await pipeline?.close();
    await Promise.all(receivers.map((receiver) => receiver.close()));
  });

  /** Each test has an organization of its own, so endpoints of other tests never match. */
  const newOrganization = () => randomUUID();

  async function endpointWithReceiver(
    organizationUuid: string,
    input: Omit<EndpointRegistration, "organizationUuid" | "url">,
  ): Promise<{ config: EndpointConfig; receiver: Receiver }> {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const { config } = await pipeline.addEndpoint({ organizationUuid, url: receiver.url, ...input });
    return { config, receiver };
  }

  async function publish(
    organizationUuid: string,
    input: Partial<EventInput> & Pick<EventInput, "type">,
  ): Promise<PublishedEvent> {
    const sample = sampleEvent(input.type as Parameters<typeof sampleEvent>[0], { version: input.schemaVersion ?? 1 });
    return pipeline.events.publish({
      source: "WEB_APP",
      partnerUuid: null,
      schemaVersion: sample.schemaVersion,
      data: sample.data,
      organizationUuid,
      ...input,
    });
  }

  /** Resolves once the router has routed, written and committed every one of `events`. */
  async function routed(events: PublishedEvent[]): Promise<void> {
    const groupId = `${pipeline.prefix}router`;
    const domain = topicNames(pipeline.naming).domain;
    await waitUntil(
      async () => {
        const committed = await pipeline.kafka.admin.fetchGroupOffsets(groupId, [domain]);
        return events.every((event) => {
          const position = committed.find((entry) => entry.partition === event.partition)?.offset;
          return position !== null && position !== undefined && BigInt(position) > BigInt(event.offset);
        });
      },
      { what: `the router to commit past ${events.map((event) => event.id).join(", ")}` },
    );
  }

  /** How many delivery requests the router has written for an endpoint. */
  async function deliveryRequests(endpointId: string): Promise<number> {
    const offsets = await pipeline.kafka.admin.fetchTopicOffsets(deliveryTopic(pipeline.naming, endpointId));
    return offsets.reduce((sum, partition) => sum + Number(BigInt(partition.high) - BigInt(partition.low)), 0);
  }

  /** Waits for `ids` at the receiver, then checks nothing else came or is on its way. */
  async function expectExactly(endpoint: { config: EndpointConfig; receiver: Receiver }, ids: string[]): Promise<void> {
    if (ids.length > 0) {
      await waitUntil(() => ids.every((id) => endpoint.receiver.eventIds().has(id)), {
        what: `${ids.join(", ")} at ${endpoint.config.endpointId} (got ${[...endpoint.receiver.eventIds()].join(", ") || "nothing"})`,
      });
    }
    expect(await deliveryRequests(endpoint.config.endpointId)).toBe(ids.length);
    expect([...endpoint.receiver.eventIds()].sort()).toEqual([...ids].sort());
  }

  test("exact types and segment wildcards: each endpoint gets exactly the types it subscribed to", async () => {
    const org = newOrganization();
    const exact = await endpointWithReceiver(org, { eventTypes: ["compliance.status_changed"] });
    const wildcard = await endpointWithReceiver(org, { eventTypes: ["compliance.*"] });

    const statusChanged = await publish(org, { type: "compliance.status_changed" });
    const decisionMade = await publish(org, { type: "compliance.decision_made" });
    const viesFailed = await publish(org, { type: "kyc.vies_check_failed" });
    const sentinel = await publish(org, { type: "compliance.status_changed" });

    await expectExactly(exact, [statusChanged.id, sentinel.id]);
    await expectExactly(wildcard, [statusChanged.id, decisionMade.id, sentinel.id]);
    await routed([statusChanged, decisionMade, viesFailed, sentinel]);
    await expectExactly(exact, [statusChanged.id, sentinel.id]);
    await expectExactly(wildcard, [statusChanged.id, decisionMade.id, sentinel.id]);
    expect(wildcard.receiver.requests.map((request) => request.json.type)).toEqual(
      expect.arrayContaining(["compliance.status_changed", "compliance.decision_made"]),
    );
    expect(wildcard.receiver.requests.every((request) => request.json.type.startsWith("compliance."))).toBe(true);
  });

  test.each([
    ["the root wildcard", ["*"], "eventTypes[0]", /root wildcard/],
    ["a root wildcard in disguise", ["*.*"], "eventTypes[0]", /root wildcard/],
    ["an unknown event type", ["compliance.status_exploded"], "eventTypes[0]", /unknown event type/],
    ["an unknown segment", ["billing.*"], "eventTypes[0]", /unknown event domain/],
    ["the root wildcard after a valid pattern", ["kyc.*", "*"], "eventTypes[1]", /root wildcard/],
  ])("registration refuses %s, naming the field, and publishes nothing", async (_what, eventTypes, field, message) => {
    const configTopic = topicNames(pipeline.naming).endpointConfig;
    const before = await pipeline.kafka.admin.fetchTopicOffsets(configTopic);
    const known = [...pipeline.router!.directory.all()].length;

    const error = await pipeline
      .addEndpoint({ organizationUuid: newOrganization(), url: "http://127.0.0.1:9/hooks", eventTypes })
      .then(() => undefined, (caught: unknown) => caught);

    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field });
    expect((error as Error).message).toMatch(message);
    expect(await pipeline.kafka.admin.fetchTopicOffsets(configTopic)).toEqual(before);
    expect([...pipeline.router!.directory.all()]).toHaveLength(known);
  });

  test("partner filter: a partner-limited endpoint gets only its partners' events; partnerIds null gets all, partner-less ones too", async () => {
    const org = newOrganization();
    const partner1 = randomUUID();
    const partner2 = randomUUID();
    const limited = await endpointWithReceiver(org, { eventTypes: ["kyc.*"], partnerIds: [partner1] });
    const everyone = await endpointWithReceiver(org, { eventTypes: ["kyc.*"], partnerIds: null });

    const ofPartner2 = await publish(org, { type: "kyc.vies_check_failed", partnerUuid: partner2 });
    const partnerless = await publish(org, { type: "kyc.vies_check_failed", partnerUuid: null });
    const ofPartner1 = await publish(org, { type: "kyc.vies_check_failed", partnerUuid: partner1 });

    await expectExactly(everyone, [ofPartner2.id, partnerless.id, ofPartner1.id]);
    await routed([ofPartner2, partnerless, ofPartner1]);
    await expectExactly(limited, [ofPartner1.id]);
    expect(limited.receiver.requests[0]!.json.partnerUuid).toBe(partner1);
  });

  test("tenancy: an event of one organization never reaches another organization's endpoint", async () => {
    const orgA = newOrganization();
    const orgB = newOrganization();
    const endpointA = await endpointWithReceiver(orgA, { eventTypes: ["compliance.*", "kyc.*"] });
    const endpointB = await endpointWithReceiver(orgB, { eventTypes: ["compliance.*", "kyc.*"] });

    const ofA = await publish(orgA, { type: "compliance.decision_made" });
    const alsoOfA = await publish(orgA, { type: "kyc.vies_check_failed" });
    // B's sentinel: B's endpoint works, so its silence about A's events means something.
    const ofB = await publish(orgB, { type: "compliance.decision_made" });

    await expectExactly(endpointA, [ofA.id, alsoOfA.id]);
    await routed([ofA, alsoOfA, ofB]);
    await expectExactly(endpointB, [ofB.id]);
    expect(endpointB.receiver.requests[0]!.json.organizationUuid).toBe(orgB);
    expect(endpointA.receiver.requests.every((request) => request.json.organizationUuid === orgA)).toBe(true);
  });

  test("no echo: API events are not delivered; WEB_APP and SYSTEM events are", async () => {
    const org = newOrganization();
    const endpoint = await endpointWithReceiver(org, { eventTypes: ["compliance.*"] });

    const fromApi = await publish(org, { type: "compliance.status_changed", source: "API" });
    const fromWebApp = await publish(org, { type: "compliance.status_changed", source: "WEB_APP" });
    const fromSystem = await publish(org, { type: "compliance.status_changed", source: "SYSTEM" });

    await expectExactly(endpoint, [fromWebApp.id, fromSystem.id]);
    await routed([fromApi, fromWebApp, fromSystem]);
    await expectExactly(endpoint, [fromWebApp.id, fromSystem.id]);
    expect(endpoint.receiver.requests.map((request) => request.json.source).sort()).toEqual(["SYSTEM", "WEB_APP"]);
  });

  test("a deleted endpoint gets no new deliveries", async () => {
    const org = newOrganization();
    const deleted = await endpointWithReceiver(org, { eventTypes: ["prospect.submitted"] });
    const kept = await endpointWithReceiver(org, { eventTypes: ["prospect.submitted"] });

    const before = await publish(org, { type: "prospect.submitted" });
    await expectExactly(deleted, [before.id]);
    await pipeline.removeEndpoint(deleted.config.endpointId);
    const after = await publish(org, { type: "prospect.submitted" });

    await expectExactly(kept, [before.id, after.id]);
    await routed([before, after]);
    await expectExactly(deleted, [before.id]);
  });

  test("version negotiation: each endpoint gets the highest version it accepts, or a SKIPPED outcome", async () => {
    const org = newOrganization();
    const v1Only = await endpointWithReceiver(org, { eventTypes: ["compliance.status_changed"], acceptedSchemaVersions: [1] });
    const v1AndV2 = await endpointWithReceiver(org, { eventTypes: ["compliance.status_changed"], acceptedSchemaVersions: [1, 2] });
    const v3Only = await endpointWithReceiver(org, { eventTypes: ["compliance.status_changed"], acceptedSchemaVersions: [3] });
    const kycV2 = await endpointWithReceiver(org, { eventTypes: ["kyc.verification_completed"], acceptedSchemaVersions: [2] });

    const expiredV2 = sampleEvent("compliance.status_changed", { version: 2 });
    expect(expiredV2.data.toStatus).toBe("EXPIRED");
    const statusV2 = await publish(org, { type: "compliance.status_changed", schemaVersion: 2, data: expiredV2.data });
    const kycV1 = await publish(org, { type: "kyc.verification_completed", schemaVersion: 1 });

    const [asV1] = await v1Only.receiver.waitForRequests(1);
    expect(asV1!.json).toMatchObject({ id: statusV2.id, type: "compliance.status_changed", schemaVersion: 1, organizationUuid: org });
    // v1 has no EXPIRED: Avro resolution reads it as the enum's default.
    expect(asV1!.json.data).toEqual({ ...expiredV2.data, toStatus: "UNKNOWN" });

    const [asV2] = await v1AndV2.receiver.waitForRequests(1);
    expect(asV2!.json).toMatchObject({ id: statusV2.id, schemaVersion: 2 });
    expect(asV2!.json.data).toEqual(expiredV2.data);

    const [upgraded] = await kycV2.receiver.waitForRequests(1);
    expect(upgraded!.json).toMatchObject({ id: kycV1.id, type: "kyc.verification_completed", schemaVersion: 2 });
    expect(upgraded!.json.data).toEqual({ ...sampleEvent("kyc.verification_completed", { version: 1 }).data, documentCountry: null });

    const outcomes = await pipeline.outcomes.waitFor(
      (list) => list.some((outcome) => outcome.eventId === statusV2.id && outcome.endpointId === v3Only.config.endpointId),
      "a SKIPPED outcome for the endpoint accepting only v3",
    );
    expect(outcomes.filter((outcome) => outcome.endpointId === v3Only.config.endpointId)).toEqual([
      expect.objectContaining({
        deliveryId: deliveryId(statusV2.id, v3Only.config.endpointId),
        eventId: statusV2.id,
        result: "SKIPPED",
        attempt: 0,
        errorClass: "schema_version_unavailable",
        organizationUuid: org,
      }),
    ]);
    await routed([statusV2, kycV1]);
    await expectExactly(v3Only, []);
    await expectExactly(v1Only, [statusV2.id]);
    await expectExactly(v1AndV2, [statusV2.id]);
    await expectExactly(kycV2, [kycV1.id]);
  });

  test("an endpoint PAUSED when the event is routed still gets the delivery queued, and receives it after resuming", async () => {
    const org = newOrganization();
    const endpoint = await endpointWithReceiver(org, { eventTypes: ["self_service_invitation.*"] });
    const paused = await pipeline.pauseEndpoint(endpoint.config);

    const event = await publish(org, { type: "self_service_invitation.expired" });
    await routed([event]);
    // Routed while paused: the request is on the endpoint's delivery topic, held by the sender.
    expect(await deliveryRequests(endpoint.config.endpointId)).toBe(1);
    expect(endpoint.receiver.requests).toHaveLength(0);

    await pipeline.resumeEndpoint(paused);
    const [request] = await endpoint.receiver.waitForRequests(1);
    expect(request!.json).toMatchObject({ id: event.id, type: "self_service_invitation.expired" });
    const outcomes = await pipeline.outcomes.waitFor(
      (list) => list.some((outcome) => outcome.eventId === event.id && outcome.result === "SUCCEEDED"),
      "the held delivery's SUCCEEDED outcome",
    );
    // Holding is back-pressure, not a failure: the delivery succeeds on its first attempt.
    expect(outcomes.filter((outcome) => outcome.eventId === event.id)).toEqual([
      expect.objectContaining({ endpointId: endpoint.config.endpointId, attempt: 1, result: "SUCCEEDED" }),
    ]);
  });
});
