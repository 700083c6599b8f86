export * from "./panels.js";
export * from "./overview-dashboard.js";
export * from "./dashboard-files.js";
