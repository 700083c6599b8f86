import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors.js";
import { deliveryId, isDeliveryId, replayDeliveryId } from "./delivery-id.js";

describe("deliveryId", () => {
  it("is stable and well-formed", () => {
    const id = deliveryId("evt_a1b2c3d4e5f6", "ep_1");
    expect(id).toMatch(/^dlv_[0-9a-f]{24}$/);
    expect(isDeliveryId(id)).toBe(true);
    expect(deliveryId("evt_a1b2c3d4e5f6", "ep_1")).toBe(id);
    // pinned so that a change of derivation (which would break dedupe across a deploy) is noticed
    // sha256('["evt_a1b2c3d4e5f6","ep_1"]'), computed independently with Python
    expect(id).toBe("dlv_bfc056861474bf965928c308");
  });

  it.each([
    [["evt_a", "ep_1"], ["evt_a", "ep_2"]],
    [["evt_a", "ep_1"], ["evt_b", "ep_1"]],
    [["evt_a.b", "c"], ["evt_a", "b.c"]],
    [["a", "bc"], ["ab", "c"]],
    [["evt_a", "ep_1"], ["ep_1", "evt_a"]],
  ])("%j and %j differ", ([e1, p1], [e2, p2]) => {
    expect(deliveryId(e1!, p1!)).not.toBe(deliveryId(e2!, p2!));
  });

  it("replays get their own stable ids", () => {
    const original = deliveryId("evt_a", "ep_1");
    const replay1 = replayDeliveryId("evt_a", "ep_1", "rpl_1");
    expect(replay1).toMatch(/^dlv_[0-9a-f]{24}$/);
    expect(replayDeliveryId("evt_a", "ep_1", "rpl_1")).toBe(replay1);
    expect(new Set([original, replay1, replayDeliveryId("evt_a", "ep_1", "rpl_2"), replayDeliveryId("evt_a", "ep_2", "rpl_1")]).size).toBe(4);
  });

  it.each([
    [() => deliveryId("", "ep_1"), "eventId"],
    [() => deliveryId("evt_a", ""), "endpointId"],
    [() => replayDeliveryId("evt_a", "ep_1", ""), "replayId"],
  ])("rejects empty parts (%#)", (call, field) => {
    expect(call).toThrowError(ValidationError);
    expect(call).toThrowError(new RegExp(`^${field}:`));
  });

  it.each([["dlv_"], ["dlv_7A0B5D9D9C0C87A43F1F0E55"], ["evt_7a0b5d9d9c0c87a43f1f0e55"], [42]])("isDeliveryId(%j) is false", (v) => {
    expect(isDeliveryId(v)).toBe(false);
  });
});
