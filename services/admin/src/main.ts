import { createLogger, createMetricsRegistry, runService, startOpsServer } from "@novatrade/service-runtime";
import { loadConfig } from "./config.js";

// Composition root of the admin. It is not built yet (a later issue): it starts, serves
// /metrics and /healthz, and stops cleanly, and does nothing else.
const config = loadConfig(process.env);
const logger = createLogger({ service: "admin", level: config.LOG_LEVEL });
const registry = createMetricsRegistry("admin");

await runService(logger, async (onStop) => {
  const ops = await startOpsServer({ registry, host: config.ADMIN_OPS_HOST, port: config.ADMIN_OPS_PORT });
  onStop(() => ops.close());
  logger.warn({ opsPort: ops.port }, "admin is not implemented yet: serving health and metrics only");
});
