import { Counter, Histogram, type Registry } from "prom-client";

/** The admin's metrics, on the registry made in main.ts. */
export function createAdminMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: "novatrade_admin_requests_total",
      help: "HTTP requests answered, by route pattern, method and status code",
      labelNames: ["route", "method", "status"] as const,
      registers: [registry],
    }),
    requestSeconds: new Histogram({
      name: "novatrade_admin_request_seconds",
      help: "Time to answer an HTTP request, by route pattern",
      labelNames: ["route"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    authFailures: new Counter({
      name: "novatrade_admin_auth_failures_total",
      help: "Requests refused for a missing, unknown or revoked key",
      registers: [registry],
    }),
    replayJobs: new Counter({
      name: "novatrade_admin_replay_jobs_total",
      help: "Replay jobs finished, by kind and final state",
      labelNames: ["kind", "state"] as const,
      registers: [registry],
    }),
    replayRequeued: new Counter({
      name: "novatrade_admin_replay_requeued_total",
      help: "Deliveries re-queued by replay jobs, by kind",
      labelNames: ["kind"] as const,
      registers: [registry],
    }),
  };
}

export type AdminMetrics = ReturnType<typeof createAdminMetrics>;
