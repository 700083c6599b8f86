import { describe, expect, it } from "vitest";
import { endOffsetPollMs } from "./end-offset-poll.js";

describe("endOffsetPollMs", () => {
  const intervals = { unsignalledMs: 5_000, signalledMs: 30_000 };

  it.each([
    { signalsRead: true, expected: 30_000, why: "signals arrive: the poll only catches a lost one" },
    { signalsRead: false, expected: 5_000, why: "no signals read: every write waits for the poll" },
  ])("$why", ({ signalsRead, expected }) => {
    expect(endOffsetPollMs(signalsRead, intervals)).toBe(expected);
  });
});
