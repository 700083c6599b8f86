import { createLogger, createMetricsRegistry, runService } from "@novatrade/service-runtime";
import { loadConfig } from "./config.js";
import { startSender } from "./sender-app.js";

// Composition root of the sender: configuration, logger and metrics registry are made here;
// startSender builds the clients and components and hands them down.
const config = loadConfig(process.env);
const logger = createLogger({ service: "sender", level: config.LOG_LEVEL });
const registry = createMetricsRegistry("sender");

await runService(logger, async (onStop) => {
  await startSender(config, { logger, registry, onStop });
});
