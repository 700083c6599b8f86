import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** The sender's metrics; labels are bounded (result, error class, source). */
export function createSenderMetrics(registry: Registry) {
  return {
    attempts: new Counter({
      name: "novatrade_sender_attempts_total",
      help: "HTTP delivery attempts, by result, failure class and event type (the ten types, or other)",
      labelNames: ["result", "error_class", "event_type"] as const,
      registers: [registry],
    }),
    attemptDuration: new Histogram({
      name: "novatrade_sender_attempt_duration_seconds",
      help: "Time from request start to the last response byte kept",
      labelNames: ["result"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    deliveries: new Counter({
      name: "novatrade_sender_deliveries_total",
      help: "Deliveries finished (succeeded or failed terminally), by result, error class of the last attempt and event type",
      labelNames: ["result", "error_class", "event_type"] as const, // result: succeeded | failed_terminal
      registers: [registry],
    }),
    endToEnd: new Histogram({
      name: "novatrade_sender_end_to_end_seconds",
      help: "From the event's createdAt to the 2xx of its delivery, by event type (replays not counted)",
      labelNames: ["event_type"] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 86400],
      registers: [registry],
    }),
    terminalFailures: new Counter({
      name: "novatrade_sender_terminal_failures_total",
      help: "Deliveries that failed their last attempt",
      registers: [registry],
    }),
    parked: new Counter({
      name: "novatrade_sender_parked_total",
      help: "Due retries of paused endpoints moved back to the endpoint's delivery topic (held)",
      registers: [registry],
    }),
    skipped: new Counter({
      name: "novatrade_sender_skipped_total",
      help: "Deliveries not attempted because the endpoint was deleted or disabled",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    jobErrors: new Counter({
      name: "novatrade_sender_job_errors_total",
      help: "Delivery jobs that failed unexpectedly; their records stay uncommitted until a restart",
      registers: [registry],
    }),
    ownFaults: new Counter({
      name: "novatrade_sender_own_faults_total",
      help: "Deliveries held because of a fault of the dispatcher itself (a secret it cannot open, none valid now); no attempt is spent",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    heldForOwnFault: new Gauge({
      name: "novatrade_sender_endpoints_held_for_own_fault",
      help: "Endpoints whose deliveries are held for a fault of the dispatcher; the sender is not ready while above zero",
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: "novatrade_sender_dead_lettered_total",
      help: "Delivery requests refused and written to the dead-letter topic, by error class",
      labelNames: ["error_class"] as const,
      registers: [registry],
    }),
    retryLateness: new Histogram({
      name: "novatrade_sender_retry_lateness_seconds",
      help: "How long after its due time a retry was attempted",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: "novatrade_sender_in_flight",
      help: "Attempts running now",
      registers: [registry],
    }),
    retryBacklog: new Gauge({
      name: "novatrade_sender_retry_backlog",
      help: "Retries waiting in each retry tier (the retry group's lag on the tier's topic), by tier (its delay)",
      labelNames: ["tier"] as const,
      registers: [registry],
    }),
    heldPartitions: new Gauge({
      name: "novatrade_sender_held_retry_partitions",
      help: "Retry partitions paused until their head delivery is due",
      registers: [registry],
    }),
    retriesTimedInMemory: new Gauge({
      name: "novatrade_sender_retries_timed_in_memory",
      help: "Retries read ahead of their due time (within their tier's jitter spread), waiting in memory",
      registers: [registry],
    }),
  };
}

export type SenderMetrics = ReturnType<typeof createSenderMetrics>;
