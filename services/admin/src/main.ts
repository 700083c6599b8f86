import { createLogger, createMetricsRegistry, runService } from "@novatrade/service-runtime";
import { startAdmin } from "./admin-app.js";
import { loadConfig } from "./config.js";

// Composition root of the admin service: config, logger and metrics registry, then startAdmin.
const config = loadConfig(process.env);
const logger = createLogger({ service: "admin", level: config.LOG_LEVEL });
const registry = createMetricsRegistry("admin");

await runService(logger, async (onStop) => {
  await startAdmin(config, { logger, registry, onStop });
});
