import { describe, expect, test } from "vitest";
import { endToEndSeconds, eventTypeLabel } from "./delivery-labels.js";

describe("eventTypeLabel", () => {
  test.each([
    ["compliance.status_changed", "compliance.status_changed"],
    ["webhook.delivery_failed_terminal", "webhook.delivery_failed_terminal"],
    ["made.up_type", "other"],
    ["", "other"],
  ])("%s -> %s", (type, label) => expect(eventTypeLabel(type)).toBe(label));
});

describe("endToEndSeconds", () => {
  const created = Date.parse("2026-04-22T10:30:00Z");
  const body = JSON.stringify({ id: "e1", createdAt: "2026-04-22T10:30:00Z" });

  test.each([
    ["a fresh delivery: now minus createdAt", { body, replayId: null }, created + 1_500, 1.5],
    ["a replay says nothing about the pipeline", { body, replayId: "r1" }, created + 1_500, null],
    ["a clock behind the producer's counts as zero", { body, replayId: null }, created - 1_000, 0],
    ["no createdAt", { body: "{}", replayId: null }, created, null],
    ["unparsable createdAt", { body: JSON.stringify({ createdAt: "yesterday" }), replayId: null }, created, null],
    ["not JSON", { body: "<xml/>", replayId: null }, created, null],
    [
      "a createdAt inside data, before the envelope's, is not the envelope's",
      { body: JSON.stringify({ id: "e1", data: { createdAt: "2020-01-01T00:00:00Z" }, createdAt: "2026-04-22T10:30:00Z" }), replayId: null },
      created + 2_000,
      2,
    ],
    [
      "a createdAt within a string value is not a key",
      { body: JSON.stringify({ note: '"createdAt":"2020-01-01T00:00:00Z"', createdAt: "2026-04-22T10:30:00Z" }), replayId: null },
      created + 2_000,
      2,
    ],
    ["spaced JSON is read too", { body: JSON.stringify({ createdAt: "2026-04-22T10:30:00Z" }, null, 2), replayId: null }, created + 500, 0.5],
  ])("%s", (_name, request, succeededAt, expected) => expect(endToEndSeconds(request, succeededAt)).toBe(expected));
});
