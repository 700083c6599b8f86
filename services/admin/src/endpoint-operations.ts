import { randomUUID } from "node:crypto";
import { deliveryTopic, isEventType, ValidationError, type EventType, type TopicNaming } from "@novatrade/domain";
import {
  endpointStore,
  registerEndpoint,
  rotateSecret,
  updateEndpoint,
  withStatus,
  type EndpointConfig,
  type EndpointConfigPublisher,
  type EndpointDirectory,
  type EndpointRegistration,
  type SecretBox,
} from "@novatrade/endpoint-config";
import { sampleEvent, sampleVersions, type EventCodec, type RecordCodec } from "@novatrade/event-codec";
import type { KafkaProducer } from "@novatrade/kafka";
import { ConflictProblem, NotFoundProblem } from "./problem.js";
import { deliveryHeaders, deliveryRequestFor } from "./replay-record.js";
import { signalWork } from "./work-signal.js";

/** Fields of an endpoint a change may set; absent ones keep their value. */
export type EndpointChange = Partial<Omit<EndpointRegistration, "organizationUuid">>;

export interface EndpointOperationsDeps {
  /** The admin's own endpoint view, started: every read comes from it. */
  directory: Pick<EndpointDirectory, "get" | "all" | "ofOrganization" | "isDeleted" | "catchUp" | "waitForPosition" | "sourceOf">;
  publisher: Pick<EndpointConfigPublisher, "put" | "remove">;
  producer: Pick<KafkaProducer, "send">;
  records: RecordCodec;
  codec: EventCodec;
  secretBox: SecretBox;
  naming: TopicNaming;
  urlPolicy: { allowHttp: boolean; allowLoopback: boolean; allowPrivate: boolean };
  /** Default overlap of a rotation, in milliseconds. */
  defaultOverlapMs: number;
  /** Delays between attempts of a test delivery, in milliseconds. */
  retrySchedule: readonly number[];
  /** Epoch milliseconds. */
  now: () => number;
}

/**
 * Endpoint operations for one organization at a time: the same domain functions as the endpoint
 * CLI (registerEndpoint, rotateSecret, withStatus, updateEndpoint with compare-and-set), so the
 * rules have one implementation. Another organization's endpoint is "not found".
 */
export class EndpointOperations {
  constructor(private readonly deps: EndpointOperationsDeps) {}

  /** The endpoint if it exists and belongs to `organizationUuid`. @throws NotFoundProblem */
  get(organizationUuid: string, endpointId: string): EndpointConfig {
    const config = this.deps.directory.get(endpointId);
    if (!config || config.organizationUuid.toLowerCase() !== organizationUuid.toLowerCase()) throw new NotFoundProblem(`endpoint ${endpointId}`);
    return config;
  }

  list(organizationUuid: string): EndpointConfig[] {
    return this.deps.directory.ofOrganization(organizationUuid).sort((a, b) => a.createdAt - b.createdAt || a.endpointId.localeCompare(b.endpointId));
  }

  /** Registers an endpoint; resolves once the admin's view shows it (read-after-write). */
  async create(organizationUuid: string, input: EndpointChange & Pick<EndpointRegistration, "url" | "eventTypes">): Promise<{ config: EndpointConfig; secret: string }> {
    const { config, plaintextSecret } = registerEndpoint({ ...input, organizationUuid }, this.#registrationDeps());
    const position = await this.deps.publisher.put(config);
    await this.deps.directory.waitForPosition(position);
    return { config, secret: plaintextSecret };
  }

  /** Changes fields with compare-and-set on `expectedRevision` (default: the revision read now). */
  async update(organizationUuid: string, endpointId: string, change: EndpointChange, expectedRevision?: number): Promise<EndpointConfig> {
    const current = this.get(organizationUuid, endpointId);
    // The registration rules validate and normalise the merged fields, exactly as at creation;
    // the secret it makes is thrown away.
    const { config: validated } = registerEndpoint(
      {
        organizationUuid: current.organizationUuid,
        url: change.url ?? current.url,
        description: change.description ?? current.description,
        eventTypes: change.eventTypes ?? current.eventTypes,
        partnerIds: change.partnerIds === undefined ? current.partnerIds : change.partnerIds,
        acceptedSchemaVersions: change.acceptedSchemaVersions ?? current.acceptedSchemaVersions,
        maxInFlight: change.maxInFlight ?? current.maxInFlight,
        rateLimitPerSecond: change.rateLimitPerSecond === undefined ? current.rateLimitPerSecond : change.rateLimitPerSecond,
      },
      this.#registrationDeps(),
    );
    return this.#change(current, expectedRevision, (latest) => ({
      ...latest,
      url: validated.url,
      description: validated.description,
      eventTypes: validated.eventTypes,
      partnerIds: validated.partnerIds,
      acceptedSchemaVersions: validated.acceptedSchemaVersions,
      maxInFlight: validated.maxInFlight,
      rateLimitPerSecond: validated.rateLimitPerSecond,
      updatedAt: Math.max(this.deps.now(), latest.updatedAt),
      revision: latest.revision + 1,
    }));
  }

  async setStatus(organizationUuid: string, endpointId: string, status: "ACTIVE" | "PAUSED"): Promise<EndpointConfig> {
    const current = this.get(organizationUuid, endpointId);
    if (current.status === status) return current;
    if (status === "PAUSED" && current.status === "DISABLED") {
      throw new ValidationError("status", `endpoint ${endpointId} is DISABLED; resume it first`);
    }
    return this.#change(current, undefined, (latest) => withStatus(latest, status, Math.max(this.deps.now(), latest.updatedAt)));
  }

  /** Adds a new secret (returned once); the current ones keep signing for `overlapMs`. */
  async rotateSecret(organizationUuid: string, endpointId: string, overlapMs?: number): Promise<{ config: EndpointConfig; secret: string; secretId: string }> {
    const current = this.get(organizationUuid, endpointId);
    let secret = "";
    const config = await this.#change(current, undefined, (latest) => {
      const rotated = rotateSecret(latest, {
        secretBox: this.deps.secretBox,
        now: Math.max(this.deps.now(), latest.updatedAt),
        overlapMs: overlapMs ?? this.deps.defaultOverlapMs,
      });
      secret = rotated.plaintextSecret;
      return rotated.config;
    });
    return { config, secret, secretId: config.secrets[config.secrets.length - 1]!.secretId };
  }

  /** Deletes the endpoint (a tombstone); resolves once the admin's view has read it. */
  async remove(organizationUuid: string, endpointId: string): Promise<void> {
    const current = this.get(organizationUuid, endpointId);
    await this.deps.publisher.remove(current.endpointId);
    await this.deps.directory.catchUp();
  }

  /**
   * Sends a sample event of `type` to this endpoint only, rendered in the highest version it
   * accepts. The event id starts `evt_test`, the delivery is marked with a `tst_` replayId, and
   * it goes straight to the endpoint's delivery topic, so no other endpoint sees it.
   */
  async sendTestEvent(organizationUuid: string, endpointId: string, type: string): Promise<{ eventId: string; deliveryId: string; schemaVersion: number }> {
    const endpoint = this.get(organizationUuid, endpointId);
    if (!isEventType(type)) throw new ValidationError("type", `unknown event type ${type}`);
    const versions = sampleVersions(type as EventType).filter((version) => endpoint.acceptedSchemaVersions.includes(version));
    if (versions.length === 0) throw new ValidationError("type", `no sample of ${type} in a version the endpoint accepts (${endpoint.acceptedSchemaVersions.join(", ")})`);
    const testId = `tst_${randomUUID().replaceAll("-", "")}`;
    const sample = sampleEvent(type as EventType, { version: Math.max(...versions), seed: testId });
    const envelope = {
      ...sample,
      id: `evt_test${sample.id.slice("evt_".length)}`,
      source: "SYSTEM" as const,
      createdAt: new Date(this.deps.now()).toISOString(),
      organizationUuid: endpoint.organizationUuid,
    };
    // Through the codec, so the body is exactly what the router would render for this endpoint.
    const rendered = this.deps.codec.render(await this.deps.codec.decode(await this.deps.codec.encode(envelope)), endpoint.acceptedSchemaVersions);
    const request = deliveryRequestFor(
      envelope,
      rendered,
      { endpointId: endpoint.endpointId, deliveryId: `dlv_${testId.slice(4, 28)}`, replayId: testId },
      { now: this.deps.now(), retrySchedule: this.deps.retrySchedule },
    );
    const value = await this.deps.records.encode("delivery-request", request);
    const topic = deliveryTopic(this.deps.naming, endpoint.endpointId);
    await this.deps.producer.send(topic, [{ key: request.eventId, value, headers: deliveryHeaders(request) }]);
    await signalWork(this.deps.producer, this.deps.naming, topic);
    return { eventId: envelope.id, deliveryId: request.deliveryId, schemaVersion: rendered.schemaVersion };
  }

  async #change(current: EndpointConfig, expectedRevision: number | undefined, change: (latest: EndpointConfig) => EndpointConfig): Promise<EndpointConfig> {
    const expected = expectedRevision ?? current.revision;
    if (expected !== current.revision) throw new ConflictProblem(`endpoint ${current.endpointId} is at revision ${current.revision}, not ${expected}`);
    return updateEndpoint(endpointStore(this.deps.publisher, this.deps.directory), current.endpointId, expected, change);
  }

  #registrationDeps() {
    return { secretBox: this.deps.secretBox, now: this.deps.now(), urlPolicy: this.deps.urlPolicy };
  }
}
