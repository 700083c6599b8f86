import { describe, expect, it } from "vitest";
import { ConfigError } from "@novatrade/domain";
import { commonEnv, parseEnv } from "./env-config.js";

describe("common configuration", () => {
  it("leaves the Kafka client id to the service unless one is set per instance", () => {
    expect(parseEnv(commonEnv, {}).KAFKA_CLIENT_ID).toBeUndefined();
    expect(parseEnv(commonEnv, { KAFKA_CLIENT_ID: "sender-7f9c.pod-2" }).KAFKA_CLIENT_ID).toBe("sender-7f9c.pod-2");
  });

  it("rejects a client id that would not read back as one label value", () => {
    expect(() => parseEnv(commonEnv, { KAFKA_CLIENT_ID: "sender 1" })).toThrowError(ConfigError);
    expect(() => parseEnv(commonEnv, { KAFKA_CLIENT_ID: "" })).toThrowError(/KAFKA_CLIENT_ID/);
  });
});
