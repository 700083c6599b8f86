import { describe, expect, test } from "vitest";
import { DecodeError, ValidationError } from "@novatrade/domain";
import { backoffDelayMs, retryWhileRetriable } from "./retry-retriable.js";

describe("backoffDelayMs", () => {
  test.each([
    [1, 200],
    [2, 400],
    [3, 800],
    [5, 3_200],
    [6, 5_000],
    [1_000, 5_000],
  ])("retry %i waits %i ms", (attempt, expected) => {
    expect(backoffDelayMs(attempt, 200, 5_000)).toBe(expected);
  });
});

describe("retryWhileRetriable", () => {
  test("retries retriable failures with growing waits until the work succeeds", async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await retryWhileRetriable(
      async () => {
        calls++;
        if (calls < 4) throw new DecodeError("registry unreachable", { retriable: true });
        return "decoded";
      },
      { sleep: async (ms) => void waits.push(ms) },
    );
    expect(result).toBe("decoded");
    expect(waits).toEqual([200, 400, 800]);
  });

  test("a failure that can never succeed is thrown at once", async () => {
    const waits: number[] = [];
    const failure = new ValidationError("organizationUuid", "not a UUID");
    await expect(retryWhileRetriable(async () => Promise.reject(failure), { sleep: async (ms) => void waits.push(ms) })).rejects.toBe(failure);
    expect(waits).toEqual([]);
  });

  test("stops waiting once stopped, with the last error", async () => {
    let stopped = false;
    const failure = new DecodeError("registry unreachable", { retriable: true });
    const promise = retryWhileRetriable(async () => Promise.reject(failure), {
      sleep: async () => void (stopped = true),
      isStopped: () => stopped,
    });
    await expect(promise).rejects.toBe(failure);
  });
});
