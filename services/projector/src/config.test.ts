import { describe, expect, it } from "vitest";
import { ConfigError } from "@novatrade/domain";
import { loadConfig } from "./config.js";

describe("projector config", () => {
  it("defaults to SPEC §4's thresholds and 30 days of history", () => {
    expect(loadConfig({})).toMatchObject({
      PROJECTOR_AUTO_PAUSE_FAILURES: 20,
      PROJECTOR_AUTO_PAUSE_FAILING_MS: 72 * 60 * 60 * 1000,
      PROJECTOR_RETENTION_DAYS: 30,
      PROJECTOR_DATABASE_SCHEMA: "public",
    });
  });

  it.each([
    [{ PROJECTOR_AUTO_PAUSE_FAILURES: "0" }, "PROJECTOR_AUTO_PAUSE_FAILURES"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
    [{ PROJECTOR_DATABASE_SCHEMA: "Robert'); DROP" }, "PROJECTOR_DATABASE_SCHEMA"],
    [{ PROJECTOR_DB_RETRY_MIN_MS: "5000", PROJECTOR_DB_RETRY_MAX_MS: "100" }, "PROJECTOR_DB_RETRY_MIN_MS"],
  ])("rejects %j naming %s", (env, variable) => {
    expect(() => loadConfig(env)).toThrowError(ConfigError);
    expect(() => loadConfig(env)).toThrowError(new RegExp(variable));
  });
});
