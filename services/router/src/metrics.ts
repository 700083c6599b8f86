import { Counter, type Registry } from "prom-client";

/** The router's metrics; labels are bounded (event type, outcome, reason class). */
export function createRouterMetrics(registry: Registry) {
  return {
    events: new Counter({
      name: "novatrade_router_events_total",
      help: "Domain events read, by what became of them",
      labelNames: ["outcome"] as const, // routed | no_match | echo_suppressed | dead_lettered
      registers: [registry],
    }),
    deliveries: new Counter({
      name: "novatrade_router_deliveries_total",
      help: "Delivery requests written to endpoint delivery topics",
      labelNames: ["event_type"] as const,
      registers: [registry],
    }),
    skipped: new Counter({
      name: "novatrade_router_skipped_deliveries_total",
      help: "Deliveries recorded as skipped: no accepted schema version could be produced",
      labelNames: ["event_type"] as const,
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: "novatrade_router_dead_letters_total",
      help: "Domain topic records sent to the dead-letter topic",
      labelNames: ["error_class"] as const,
      registers: [registry],
    }),
  };
}

export type RouterMetrics = ReturnType<typeof createRouterMetrics>;
