import { describe, expect, test } from "vitest";
import { decodeWorkSignal, encodeWorkSignal } from "./work-signal.js";

describe("work signals", () => {
  test("carry the topic names, each once", () => {
    expect(decodeWorkSignal(encodeWorkSignal(["p.delivery.ep_1", "p.delivery.ep_2", "p.delivery.ep_1"]))).toEqual(["p.delivery.ep_1", "p.delivery.ep_2"]);
  });

  test("an empty or missing value names nothing; illegal names are dropped", () => {
    expect(decodeWorkSignal(null)).toEqual([]);
    expect(decodeWorkSignal(Buffer.alloc(0))).toEqual([]);
    expect(decodeWorkSignal(Buffer.from("p.delivery.ep_1\nnot a topic\n\n../x"))).toEqual(["p.delivery.ep_1"]);
  });
});
