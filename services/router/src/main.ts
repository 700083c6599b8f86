import { createLogger, createMetricsRegistry, runService } from "@novatrade/service-runtime";
import { loadConfig } from "./config.js";
import { startRouter } from "./router-app.js";

// Composition root of the router: configuration, logger and metrics registry are made here;
// startRouter builds the clients and components and hands them down.
const config = loadConfig(process.env);
const logger = createLogger({ service: "router", level: config.LOG_LEVEL });
const registry = createMetricsRegistry("router");

await runService(logger, async (onStop) => {
  await startRouter(config, { logger, registry, onStop });
});
