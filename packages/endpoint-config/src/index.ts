export * from "./endpoint-record.js";
export * from "./endpoint-registration.js";
export * from "./secret-box.js";
export * from "./pipeline-topics.js";
export * from "./endpoint-config-publisher.js";
export * from "./endpoint-directory.js";
export * from "./endpoint-directory-metrics.js";
export * from "./endpoint-view.js";
