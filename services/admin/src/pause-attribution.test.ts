import { describe, expect, test } from "vitest";
import { pauseAttribution, type AutoPauseRecord, type ManualPause } from "./pause-attribution.js";

const MANUAL: ManualPause = { kind: "organization", name: "ci key", reason: "maintenance", at: 2_000 };
const AUTO_DONE: AutoPauseRecord = { state: "DONE", reason: "CONSECUTIVE_FAILURES", triggeredAt: 1_000 };

describe("pauseAttribution", () => {
  test.each([
    ["an active endpoint has nobody", "ACTIVE", MANUAL, AUTO_DONE, null],
    ["a pause by hand names the key and the reason", "PAUSED", MANUAL, null, { kind: "organization", name: "ci key", reason: "maintenance", at: 2_000 }],
    ["a pause by hand wins over an older auto-pause record (it is deleted by a resume)", "PAUSED", MANUAL, AUTO_DONE, { kind: "organization", name: "ci key", reason: "maintenance", at: 2_000 }],
    ["a carried-out auto-pause is the dispatcher's, with its rule", "PAUSED", null, AUTO_DONE, { kind: "auto-pause", name: "dispatcher", reason: "CONSECUTIVE_FAILURES", at: 1_000 }],
    ["a skipped auto-pause did not pause it", "PAUSED", null, { ...AUTO_DONE, state: "SKIPPED" }, { kind: "unknown", name: "unknown", reason: null, at: null }],
    ["nothing recorded: unknown, not guessed", "DISABLED", null, null, { kind: "unknown", name: "unknown", reason: null, at: null }],
  ] as const)("%s", (_name, status, manual, auto, expected) => {
    expect(pauseAttribution(status, manual, auto)).toEqual(expected);
  });
});
