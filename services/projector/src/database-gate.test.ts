import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { Registry } from "prom-client";
import { DatabaseGate, nextDelay } from "./database-gate.js";
import { createProjectorMetrics } from "./metrics.js";

const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });

function gate() {
  const sleeps: number[] = [];
  const metrics = createProjectorMetrics(new Registry());
  const instance = new DatabaseGate({ minDelayMs: 100, maxDelayMs: 1000, metrics, logger: pino({ level: "silent" }), sleep: async (ms) => void sleeps.push(ms) });
  return { instance, sleeps, metrics };
}

describe("nextDelay", () => {
  it.each([
    [0, 100],
    [100, 200],
    [400, 800],
    [800, 1000],
    [1000, 1000],
  ])("after %d waits %d", (previous, next) => {
    expect(nextDelay(previous, { minDelayMs: 100, maxDelayMs: 1000 })).toBe(next);
  });
});

describe("DatabaseGate", () => {
  it("retries connection failures with back-off, unavailable until one succeeds", async () => {
    const { instance, sleeps } = gate();
    let calls = 0;
    const seen: boolean[] = [];
    const result = await instance.run(
      "work",
      async () => {
        calls++;
        if (calls <= 5) throw refused;
        return "done";
      },
      async () => void seen.push(instance.isAvailable()),
    );
    expect(result).toBe("done");
    expect(sleeps).toEqual([100, 200, 400, 800, 1000]);
    expect(seen).toEqual([false, false, false, false, false]);
    expect(instance.isAvailable()).toBe(true);
  });

  it("does not retry a failure that is not about the connection", async () => {
    const { instance, sleeps } = gate();
    const syntax = Object.assign(new Error("syntax error"), { code: "42601" });
    await expect(instance.run("work", async () => Promise.reject(syntax))).rejects.toBe(syntax);
    expect(sleeps).toEqual([]);
    expect(instance.isAvailable()).toBe(true);
  });

  it("stops retrying when told to", async () => {
    const { instance } = gate();
    const stop = new Error("stopping");
    await expect(instance.run("work", async () => Promise.reject(refused), async () => Promise.reject(stop))).rejects.toBe(stop);
    expect(instance.isAvailable()).toBe(false);
  });
});
