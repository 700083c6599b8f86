import kafkajs from "kafkajs";
import { pino } from "pino";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { clientLogLevelFor, createLogCreator, pinoLevelFor } from "./kafka-log.js";

const { logLevel } = kafkajs;

describe("pinoLevelFor", () => {
  it.each([
    [logLevel.ERROR, "Consumer", "Crash: KafkaJSNumberOfRetriesExceeded", "error"],
    [logLevel.ERROR, "Connection", "Response Metadata(key: 3, version: 6)", "debug"],
    [logLevel.ERROR, "Connection", "Connection error: connect ECONNREFUSED", "error"],
    [logLevel.ERROR, "Runner", "Error when calling eachMessage", "debug"],
    [logLevel.WARN, "Runner", "The group is rebalancing, re-joining", "warn"],
    [logLevel.WARN, "Producer", "Limiting retries for the idempotent producer may invalidate EoS guarantees", "debug"],
    [logLevel.INFO, "ConsumerGroup", "Consumer has joined the group", "info"],
    [logLevel.INFO, "ConsumerGroup", "Pausing fetching from 1 topics", "debug"],
    [logLevel.INFO, "ConsumerGroup", "Resuming fetching from 3 topics", "debug"],
    [logLevel.DEBUG, "Connection", "Request Fetch", "debug"],
  ])("level %i from %s %j is %s", (level, namespace, message, expected) => {
    expect(pinoLevelFor(level, namespace, message)).toBe(expected);
  });
});

describe("clientLogLevelFor", () => {
  it.each([
    ["trace", logLevel.DEBUG],
    ["debug", logLevel.DEBUG],
    ["info", logLevel.INFO],
    ["warn", logLevel.WARN],
    ["error", logLevel.ERROR],
    ["fatal", logLevel.ERROR],
    ["silent", logLevel.NOTHING],
  ])("pino %s lets kafkajs log at %i", (level, expected) => {
    expect(clientLogLevelFor(pino({ level }))).toBe(expected);
  });
});

describe("createLogCreator", () => {
  it("forwards a kafkajs line with its fields and namespace", () => {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const log = createLogCreator(pino({ level: "debug" }, destination))(logLevel.DEBUG);
    log({
      namespace: "ConsumerGroup",
      level: logLevel.INFO,
      label: "INFO",
      log: { timestamp: "2025-01-01T00:00:00.000Z", logger: "kafkajs", message: "Consumer has joined the group", groupId: "g1" },
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, msg: "Consumer has joined the group", groupId: "g1", kafkaNamespace: "ConsumerGroup" });
    expect(lines[0]).not.toHaveProperty("logger");
  });
});
