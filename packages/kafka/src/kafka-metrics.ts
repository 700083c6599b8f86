import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Which kind of client a metric is about. */
export type KafkaComponent = "admin" | "producer" | "consumer";

/** Instrumentation events counted in `<prefix>client_events_total`; a closed set keeps labels bounded. */
export type KafkaClientEvent =
  | "connect"
  | "disconnect"
  | "request_timeout"
  | "group_join"
  | "rebalancing"
  | "crash"
  | "crash_restart"
  | "stop"
  | "received_unsubscribed_topics"
  | "subscription_changed"
  | "commit_offsets";

export interface KafkaMetricsOptions {
  registry: Registry;
  /** Common name prefix, e.g. `novatrade_kafka_`. */
  prefix: string;
  clientId: string;
}

/**
 * The adapter's metrics. Labels are bounded: client id and group id come from configuration,
 * `api` is a Kafka protocol API name, `broker` is one of the cluster's brokers. Never a topic:
 * there is one delivery topic per endpoint.
 */
export interface KafkaMetrics {
  event(component: KafkaComponent, event: KafkaClientEvent): void;
  /** Round trip of one protocol request, in seconds. */
  requestDuration(component: KafkaComponent, api: string, seconds: number): void;
  requestQueueSize(component: KafkaComponent, broker: string, size: number): void;
  handlerError(groupId: string, outcome: "rethrow" | "skip"): void;
  /** Time a handler spent on one fetched batch, in seconds. */
  batchDuration(groupId: string, seconds: number): void;
  subscribedTopics(groupId: string, count: number): void;
  /** With the work gate: assigned partitions fetched (active) and left paused for want of records (idle). */
  workPartitions(groupId: string, counts: { active: number; idle: number }): void;
}

/**
 * prom-client throws when a name is registered twice, and one registry can serve several Kafka
 * clients (a service with two, or a test run), so each metric is looked up before it is made.
 */
function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Gauge<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Gauge<L>;
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

function histogram<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
  buckets: number[],
): Histogram<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Histogram<L>;
  return new Histogram({ name, help, labelNames, buckets, registers: [registry] });
}

export function createKafkaMetrics({ registry, prefix, clientId }: KafkaMetricsOptions): KafkaMetrics {
  const events = counter(registry, `${prefix}client_events_total`, "Kafka client instrumentation events.", [
    "client_id",
    "component",
    "event",
  ]);
  const requests = histogram(
    registry,
    `${prefix}request_duration_seconds`,
    "Kafka protocol request round trip, by API.",
    ["client_id", "component", "api"],
    [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
  );
  const queue = gauge(registry, `${prefix}request_queue_size`, "Requests waiting to be sent, per broker.", [
    "client_id",
    "component",
    "broker",
  ]);
  const handlerErrors = counter(
    registry,
    `${prefix}consumer_handler_errors_total`,
    "Errors thrown by consumer handlers, by what the adapter did with them.",
    ["client_id", "group_id", "outcome"],
  );
  const batches = histogram(
    registry,
    `${prefix}consumer_batch_duration_seconds`,
    "Time spent handling one fetched batch.",
    ["client_id", "group_id"],
    [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
  );
  const topics = gauge(registry, `${prefix}consumer_subscribed_topics`, "Topics a consumer is subscribed to.", [
    "client_id",
    "group_id",
  ]);

  const work = gauge(
    registry,
    `${prefix}consumer_work_partitions`,
    "Assigned partitions by whether the work gate lets them be fetched (active: records to read) or keeps them paused (idle).",
    ["client_id", "group_id", "state"],
  );

  return {
    event: (component, event) => events.inc({ client_id: clientId, component, event }),
    requestDuration: (component, api, seconds) =>
      requests.observe({ client_id: clientId, component, api }, seconds),
    requestQueueSize: (component, broker, size) => queue.set({ client_id: clientId, component, broker }, size),
    handlerError: (groupId, outcome) => handlerErrors.inc({ client_id: clientId, group_id: groupId, outcome }),
    batchDuration: (groupId, seconds) => batches.observe({ client_id: clientId, group_id: groupId }, seconds),
    subscribedTopics: (groupId, count) => topics.set({ client_id: clientId, group_id: groupId }, count),
    workPartitions: (groupId, { active, idle }) => {
      work.set({ client_id: clientId, group_id: groupId, state: "active" }, active);
      work.set({ client_id: clientId, group_id: groupId, state: "idle" }, idle);
    },
  };
}
