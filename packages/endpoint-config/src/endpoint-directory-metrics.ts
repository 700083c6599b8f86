import { Counter, Gauge, type Registry } from "prom-client";

/** The endpoint view's metrics, registered on the service's registry. */
export interface EndpointDirectoryMetrics {
  /** Configuration records that can never be decoded, sent to the dead-letter topic. */
  deadLetters: Counter<"error_class">;
  /** 1 while the view waits for the schema registry (or another retriable failure), else 0. */
  waiting: Gauge;
}

export function createEndpointDirectoryMetrics(registry: Registry): EndpointDirectoryMetrics {
  return {
    deadLetters: new Counter({
      name: "novatrade_endpoint_config_dead_letters_total",
      help: "Endpoint configuration records that can never be decoded, sent to the dead-letter topic",
      labelNames: ["error_class"] as const,
      registers: [registry],
    }),
    waiting: new Gauge({
      name: "novatrade_endpoint_config_waiting",
      help: "1 while the endpoint view retries a record it could not read yet (registry unreachable)",
      registers: [registry],
    }),
  };
}
