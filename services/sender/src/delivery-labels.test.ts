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
  ])("%s", (_name, request, succeededAt, expected) => expect(endToEndSeconds(request, succeededAt)).toBe(expected));
});
