import {
  DecodeError,
  deliveryId,
  deliveryTopic,
  isMetaEventType,
  NovatradeError,
  SchemaVersionUnavailableError,
  selectMatchingEndpoints,
  topicNames,
  ValidationError,
  type RetrySchedule,
  type TopicNaming,
} from "@novatrade/domain";
import {
  assertDeliverableSize,
  deadLetterFor,
  deliveryOutcome,
  type DecodedEvent,
  type DeliveryRequestRecord,
  type EventCodec,
  type RecordCodec,
  type RenderedEvent,
} from "@novatrade/event-codec";
import type { EndpointConfig } from "@novatrade/endpoint-config";
import type { KafkaMessage, OutgoingMessage } from "@novatrade/kafka";
import type { RouterMetrics } from "./metrics.js";

/** A record the router writes, with the topic it goes to. */
export interface RoutedRecord {
  topic: string;
  message: OutgoingMessage;
  /** Set on delivery requests: the endpoint whose delivery topic `topic` is. */
  endpointId?: string;
}

export interface EventRouterDeps {
  codec: EventCodec;
  records: RecordCodec;
  /** The current endpoints of an organization (the directory's view); matching checks tenancy again. */
  endpointsOf: (organizationUuid: string) => Iterable<EndpointConfig>;
  naming: TopicNaming;
  retrySchedule: RetrySchedule;
  metrics: RouterMetrics;
  /** Epoch milliseconds. */
  now: () => number;
}

/** An event in the version an endpoint accepts, or why there is none. */
type Rendering = { rendered: RenderedEvent; unavailable?: undefined } | { rendered?: undefined; unavailable: SchemaVersionUnavailableError };

/** Header names on delivery requests; the sender and tools read them without decoding. */
export const DELIVERY_HEADERS = {
  deliveryId: "novatrade-delivery-id",
  eventId: "novatrade-event-id",
  eventType: "novatrade-event-type",
} as const;

/**
 * Turns one domain-topic record into what must be written for it: a delivery request per
 * matching endpoint, a skipped outcome where no accepted version can be produced, or a dead
 * letter when the record is not a valid event. Never throws for bad input; throws only for
 * trouble that retrying can fix (the registry could not be reached), so the batch is retried.
 */
export class EventRouter {
  readonly #deps: EventRouterDeps;
  readonly #topics;

  constructor(deps: EventRouterDeps) {
    this.#deps = deps;
    this.#topics = topicNames(deps.naming);
  }

  async route(message: KafkaMessage): Promise<RoutedRecord[]> {
    const { codec, metrics } = this.#deps;
    let decoded;
    try {
      if (message.value === null) throw new DecodeError("record has no value");
      decoded = await codec.decode(message.value);
      // Too large to deliver is bad input like any other, matched by an endpoint or not.
      assertDeliverableSize(JSON.stringify(decoded.envelope));
    } catch (error) {
      if (error instanceof NovatradeError && error.retriable) throw error;
      if (error instanceof DecodeError || error instanceof ValidationError) return [await this.#deadLetter(message, error)];
      throw error;
    }

    const { envelope } = decoded;
    if (envelope.source === "API") {
      // No echo: whoever called the API already knows what happened.
      metrics.events.inc({ outcome: "echo_suppressed" });
      return [];
    }
    const endpoints = selectMatchingEndpoints(this.#deps.endpointsOf(envelope.organizationUuid), envelope);
    if (endpoints.length === 0) {
      metrics.events.inc({ outcome: "no_match" });
      return [];
    }
    // Rendered once per set of accepted versions, not once per endpoint: endpoints of one
    // organization mostly accept the same versions, and rendering (schema resolution and JSON)
    // was most of the router's own work per delivery on a fanned-out event.
    const byVersions = new Map<string, Rendering>();
    const renderings = endpoints.map((endpoint) => {
      const versions = endpoint.acceptedSchemaVersions.join(",");
      let rendering = byVersions.get(versions);
      if (!rendering) byVersions.set(versions, (rendering = this.#render(decoded, endpoint.acceptedSchemaVersions)));
      return { endpoint, ...rendering };
    });
    try {
      // Another schema version's body may be larger still. Past the limit it could never be
      // delivered (nor its request written): the whole event is dead-lettered rather than
      // retried forever or delivered to some endpoints only.
      for (const { rendered } of byVersions.values()) if (rendered) assertDeliverableSize(rendered.body);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return [await this.#deadLetter(message, error)];
    }
    metrics.events.inc({ outcome: "routed" });

    const now = this.#deps.now();
    const routed: RoutedRecord[] = [];
    for (const { endpoint, rendered, unavailable } of renderings) {
      const id = deliveryId(envelope.id, endpoint.endpointId);
      if (!rendered) {
        metrics.skipped.inc({ event_type: envelope.type });
        routed.push(await this.#skipped(id, envelope, endpoint, unavailable!, now));
        continue;
      }
      const request: DeliveryRequestRecord = {
        deliveryId: id,
        eventId: envelope.id,
        eventType: envelope.type,
        endpointId: endpoint.endpointId,
        organizationUuid: envelope.organizationUuid,
        partnerUuid: envelope.partnerUuid,
        schemaVersion: rendered.schemaVersion,
        body: rendered.body,
        attempt: 1,
        retrySchedule: [...this.#deps.retrySchedule],
        firstAttemptAt: null,
        notBefore: now,
        isMeta: isMetaEventType(envelope.type),
        replayId: null,
        createdAt: now,
      };
      metrics.deliveries.inc({ event_type: envelope.type });
      routed.push({
        topic: deliveryTopic(this.#deps.naming, endpoint.endpointId),
        endpointId: endpoint.endpointId,
        message: {
          key: envelope.id,
          value: await this.#deps.records.encode("delivery-request", request),
          headers: { [DELIVERY_HEADERS.deliveryId]: id, [DELIVERY_HEADERS.eventId]: envelope.id, [DELIVERY_HEADERS.eventType]: envelope.type },
        },
      });
    }
    return routed;
  }

  #render(decoded: DecodedEvent, acceptedVersions: readonly number[]): Rendering {
    try {
      return { rendered: this.#deps.codec.render(decoded, acceptedVersions) };
    } catch (error) {
      if (!(error instanceof SchemaVersionUnavailableError)) throw error;
      return { unavailable: error };
    }
  }

  async #skipped(
    id: string,
    envelope: { id: string; type: string; organizationUuid: string },
    endpoint: EndpointConfig,
    error: SchemaVersionUnavailableError,
    now: number,
  ): Promise<RoutedRecord> {
    const outcome = deliveryOutcome({ deliveryId: id, eventId: envelope.id, eventType: envelope.type, endpointId: endpoint.endpointId, organizationUuid: envelope.organizationUuid }, "SKIPPED", {
      attempt: 0,
      attemptedAt: now,
      errorClass: "schema_version_unavailable",
      errorMessage: error.message,
    });
    return {
      topic: this.#topics.deliveryOutcome,
      message: { key: endpoint.endpointId, value: await this.#deps.records.encode("delivery-outcome", outcome) },
    };
  }

  /** The record cannot be routed, ever: kept whole in the dead-letter topic, and counted. */
  async #deadLetter(message: KafkaMessage, error: Error): Promise<RoutedRecord> {
    this.#deps.metrics.events.inc({ outcome: "dead_lettered" });
    this.#deps.metrics.deadLetters.inc({ error_class: error.name });
    const value = await this.#deps.records.encode("dead-letter", deadLetterFor(message, error, "router", this.#deps.now()));
    return { topic: this.#topics.deadLetter, message: { key: message.key, value, headers: { "novatrade-error-class": error.name } } };
  }

}
