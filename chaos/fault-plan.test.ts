import { describe, expect, test } from "vitest";
import { planFaults, seededRandom } from "./fault-plan.js";

const kinds = (plan: ReturnType<typeof planFaults>) => plan.map((fault) => `${fault.kind}${fault.target === undefined ? "" : `:${typeof fault.target === "number" ? "node" : fault.target}`}`).sort();

describe("planFaults", () => {
  test("the full plan on a cluster: three kills of each service, a broker killed for 30 s, a rolling restart, the registry for 20 s, PostgreSQL for 60 s", () => {
    const plan = planFaults({ short: false, cluster: true, seed: 7 });
    expect(kinds(plan)).toEqual(
      [...Array(3).fill("kill-service:router"), ...Array(3).fill("kill-service:sender"), ...Array(3).fill("kill-service:projector"), "kill-broker:node", "rolling-restart", "stop-registry", "stop-postgres"].sort(),
    );
    expect(plan.find((fault) => fault.kind === "kill-broker")).toMatchObject({ outageMs: 30_000, target: expect.any(Number) });
    expect(plan.find((fault) => fault.kind === "stop-registry")!.outageMs).toBe(20_000);
    expect(plan.find((fault) => fault.kind === "stop-postgres")!.outageMs).toBe(60_000);
  });

  test("on one broker there are no broker faults; the short plan kills each service once", () => {
    const plan = planFaults({ short: true, cluster: false, seed: 7 });
    expect(kinds(plan)).toEqual(["kill-service:projector", "kill-service:router", "kill-service:sender", "stop-postgres", "stop-registry"]);
  });

  test("the same seed gives the same plan; another seed another order", () => {
    expect(planFaults({ short: false, cluster: true, seed: 42 })).toEqual(planFaults({ short: false, cluster: true, seed: 42 }));
    const orders = new Set([1, 2, 3, 4, 5].map((seed) => planFaults({ short: false, cluster: true, seed }).map((fault) => fault.kind).join(",")));
    expect(orders.size).toBeGreaterThan(1);
  });

  test("seededRandom stays in [0, 1)", () => {
    const random = seededRandom(123);
    for (let i = 0; i < 1000; i++) {
      const value = random();
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
    }
  });
});
