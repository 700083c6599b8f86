import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** The projector's metrics; labels are bounded (input name, outcome, error class). */
export function createProjectorMetrics(registry: Registry) {
  return {
    records: new Counter({
      name: "novatrade_projector_records_total",
      help: "Records read, by input and by what became of them",
      labelNames: ["input", "outcome"] as const, // input: outcomes | endpoints | events; outcome: projected | dead_lettered | expired
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: "novatrade_projector_batch_seconds",
      help: "Time to project one batch into PostgreSQL (one transaction)",
      labelNames: ["input"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    databaseErrors: new Counter({
      name: "novatrade_projector_database_errors_total",
      help: "Database operations that failed and are retried with back-off",
      labelNames: ["kind"] as const, // unavailable | other
      registers: [registry],
    }),
    databaseUp: new Gauge({
      name: "novatrade_projector_database_up",
      help: "1 while the last database operation succeeded, 0 while PostgreSQL is unreachable",
      registers: [registry],
    }),
    autoPauses: new Counter({
      name: "novatrade_projector_auto_pauses_total",
      help: "Endpoints auto-paused, by rule",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    lagSeconds: new Gauge({
      name: "novatrade_projector_lag_seconds",
      help: "Seconds between the newest outcome record projected (its Kafka timestamp) and the moment it was applied to PostgreSQL",
      registers: [registry],
    }),
    endpointsPaused: new Gauge({
      name: "novatrade_endpoints_paused",
      help: "Endpoints paused now, by reason: manual (an operator or integrator) or auto (the auto-pause rules); from the health table",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    partitionsDropped: new Counter({
      name: "novatrade_projector_partitions_dropped_total",
      help: "Day partitions dropped by retention",
      registers: [registry],
    }),
  };
}

export type ProjectorMetrics = ReturnType<typeof createProjectorMetrics>;
