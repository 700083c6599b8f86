import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** The sender's metrics; labels are bounded (result, error class, source). */
export function createSenderMetrics(registry: Registry) {
  return {
    attempts: new Counter({
      name: "novatrade_sender_attempts_total",
      help: "HTTP delivery attempts, by result and failure class",
      labelNames: ["result", "error_class"] as const,
      registers: [registry],
    }),
    attemptDuration: new Histogram({
      name: "novatrade_sender_attempt_duration_seconds",
      help: "Time from request start to the last response byte kept",
      labelNames: ["result"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
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
    inFlight: new Gauge({
      name: "novatrade_sender_in_flight",
      help: "Attempts running now",
      registers: [registry],
    }),
    heldPartitions: new Gauge({
      name: "novatrade_sender_held_retry_partitions",
      help: "Retry partitions paused until their head delivery is due",
      registers: [registry],
    }),
  };
}

export type SenderMetrics = ReturnType<typeof createSenderMetrics>;
