import { describe, expect, test } from "vitest";
import { consumerProbe } from "./consumer-probe.js";

describe("consumerProbe", () => {
  test.each([
    [undefined, true, false],
    ["idle", true, false],
    ["waiting-for-topics", true, true],
    ["starting", true, true],
    ["running", true, true],
    ["restarting", true, false],
    ["crashed", false, false],
    ["stopped", false, false],
  ] as const)("%s: live %s, ready %s", (status, live, ready) => expect(consumerProbe(status)).toEqual({ live, ready }));
});
