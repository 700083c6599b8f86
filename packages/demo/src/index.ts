export * from "./config.js";
export * from "./sample-receiver.js";
export * from "./run-demo.js";
export * from "./demo-endpoints.js";
