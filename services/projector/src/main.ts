import { createLogger, createMetricsRegistry, runService } from "@novatrade/service-runtime";
import { loadConfig } from "./config.js";
import { startProjector } from "./projector-app.js";

// Composition root of the projector: configuration, logger and metrics registry are made here;
// startProjector builds the database pool, Kafka client and components and hands them down.
const config = loadConfig(process.env);
const logger = createLogger({ service: "projector", level: config.LOG_LEVEL });
const registry = createMetricsRegistry("projector");

await runService(logger, async (onStop) => {
  await startProjector(config, { logger, registry, onStop });
});
