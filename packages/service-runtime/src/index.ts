export * from "./logger.js";
export * from "./env-config.js";
export * from "./metrics.js";
export * from "./lifecycle.js";
