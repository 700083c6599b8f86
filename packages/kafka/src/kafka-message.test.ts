import { describe, expect, it } from "vitest";
import { decodeHeaders, detachedMessage, fromClientMessage, toClientMessage } from "./kafka-message.js";

describe("decodeHeaders", () => {
  it.each([
    ["no headers", undefined, {}],
    ["buffer values as UTF-8", { "event-type": Buffer.from("trade.executed"), id: Buffer.from("é") }, { "event-type": "trade.executed", id: "é" }],
    ["string values as they are", { a: "x" }, { a: "x" }],
    ["the last of repeated values", { a: [Buffer.from("1"), Buffer.from("2")] }, { a: "2" }],
    ["nothing for an empty repeat", { a: [] as Buffer[] }, {}],
    ["nothing for undefined", { a: undefined }, {}],
  ])("decodes %s", (_name, headers, expected) => {
    expect(decodeHeaders(headers)).toEqual(expected);
  });
});

describe("fromClientMessage", () => {
  it("maps a record to the adapter's message", () => {
    const message = fromClientMessage("deliveries", 2, {
      key: Buffer.from("k"),
      value: Buffer.from("v"),
      timestamp: "1732550400000",
      attributes: 0,
      offset: "17",
      headers: { h: Buffer.from("x") },
    });
    expect(message).toEqual({
      topic: "deliveries",
      partition: 2,
      offset: "17",
      key: Buffer.from("k"),
      value: Buffer.from("v"),
      headers: { h: "x" },
      timestamp: 1732550400000,
    });
  });

  it("keeps null keys and tombstones", () => {
    const message = fromClientMessage("config", 0, {
      key: null,
      value: null,
      timestamp: "1",
      attributes: 0,
      offset: "0",
      headers: {},
    });
    expect(message.key).toBeNull();
    expect(message.value).toBeNull();
  });
});

describe("toClientMessage", () => {
  it.each([
    ["only a value", { value: Buffer.from("v") }, { value: Buffer.from("v") }],
    ["a tombstone", { key: "k", value: null }, { key: "k", value: null }],
    [
      "every field",
      { key: Buffer.from("k"), value: Buffer.from("v"), headers: { a: "1" }, partition: 3, timestamp: 5 },
      { key: Buffer.from("k"), value: Buffer.from("v"), headers: { a: "1" }, partition: 3, timestamp: "5" },
    ],
  ])("maps %s", (_name, input, expected) => {
    expect(toClientMessage(input)).toEqual(expected);
  });
});

describe("detachedMessage", () => {
  it("copies key and value out of the buffer they are views of; the rest is the same", () => {
    const response = Buffer.from("key-1value-1");
    const message = { topic: "t", partition: 2, offset: "7", key: response.subarray(0, 5), value: response.subarray(5), headers: { h: "v" }, timestamp: 9 };
    const detached = detachedMessage(message);
    expect(detached).toEqual(message);
    response.fill(0);
    expect([detached.key!.toString(), detached.value!.toString()]).toEqual(["key-1", "value-1"]);
  });

  it("keeps a null key and a tombstone as they are", () => {
    const message = { topic: "t", partition: 0, offset: "1", key: null, value: null, headers: {}, timestamp: 0 };
    expect(detachedMessage(message)).toEqual(message);
  });
});
