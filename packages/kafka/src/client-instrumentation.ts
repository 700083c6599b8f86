import type { Logger } from "pino";
import type { KafkaComponent, KafkaMetrics } from "./kafka-metrics.js";

/** The part of a kafkajs admin, producer or consumer that instrumentation needs. */
export interface InstrumentationSource {
  readonly events: { CONNECT: string; DISCONNECT: string; REQUEST: string; REQUEST_TIMEOUT: string; REQUEST_QUEUE_SIZE: string };
  on(eventName: string, listener: (event: { payload: unknown }) => void): () => void;
}

interface RequestPayload {
  apiName?: string;
  broker?: string;
  duration?: number;
  pendingDuration?: number;
  queueSize?: number;
}

/**
 * Network-level instrumentation shared by every kind of client: connections, request latency,
 * request timeouts (also logged: they are the first sign of a struggling broker) and the size of
 * each broker's request queue. Returns a function that detaches everything.
 */
export function instrumentNetwork(
  source: InstrumentationSource,
  component: KafkaComponent,
  metrics: KafkaMetrics,
  logger: Logger,
): () => void {
  const { events } = source;
  const removers = [
    source.on(events.CONNECT, () => metrics.event(component, "connect")),
    source.on(events.DISCONNECT, () => metrics.event(component, "disconnect")),
    source.on(events.REQUEST, ({ payload }) => {
      const request = payload as RequestPayload;
      metrics.requestDuration(component, request.apiName ?? "unknown", (request.duration ?? 0) / 1000);
    }),
    source.on(events.REQUEST_TIMEOUT, ({ payload }) => {
      const request = payload as RequestPayload;
      metrics.event(component, "request_timeout");
      logger.warn(
        { component, broker: request.broker, api: request.apiName, pendingDurationMs: request.pendingDuration },
        "kafka request timed out",
      );
    }),
    source.on(events.REQUEST_QUEUE_SIZE, ({ payload }) => {
      const queue = payload as RequestPayload;
      metrics.requestQueueSize(component, queue.broker ?? "unknown", queue.queueSize ?? 0);
    }),
  ];
  return () => {
    for (const remove of removers) remove();
  };
}
