export * from "./verification-error.js";
export * from "./signing-secret.js";
export * from "./novatrade-signature.js";
export * from "./standard-webhooks-signature.js";
export * from "./dedupe-store.js";
export * from "./webhook-receiver.js";
export * from "./node-http.js";
