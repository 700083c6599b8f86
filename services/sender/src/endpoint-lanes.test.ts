import { describe, expect, test } from "vitest";
import { EndpointLanes, type LaneJob } from "./endpoint-lanes.js";

/** A job that starts when the lane starts it and finishes when the test says so. */
function controlledJob(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const job: LaneJob = {
    run: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
    },
  };
  return { job, finish };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

function newLanes(globalMaxInFlight: number, errors: unknown[] = []) {
  return new EndpointLanes({ globalMaxInFlight, onJobError: (_id, error) => errors.push(error) });
}

describe("EndpointLanes", () => {
  test("an endpoint runs at most maxInFlight jobs; the next starts when one ends", async () => {
    const lanes = newLanes(100);
    const log: string[] = [];
    const jobs = ["a1", "a2", "a3"].map((name) => controlledJob(log, name));
    for (const { job } of jobs) lanes.submit("a", 2, job);
    await flush();
    expect(log).toEqual(["start a1", "start a2"]);
    jobs[0]!.finish();
    await flush();
    expect(log).toEqual(["start a1", "start a2", "end a1", "start a3"]);
  });

  test("a stuck endpoint does not delay another endpoint", async () => {
    const lanes = newLanes(100);
    const log: string[] = [];
    const stuck = [1, 2, 3].map((n) => controlledJob(log, `slow${n}`));
    for (const { job } of stuck) lanes.submit("slow", 2, job);
    const healthy = controlledJob(log, "fast");
    lanes.submit("fast", 2, healthy.job);
    healthy.finish();
    await flush();
    expect(log).toContain("end fast");
    expect(log).not.toContain("start slow3");
  });

  test("the global bound is shared round-robin between endpoints", async () => {
    const lanes = newLanes(1);
    const log: string[] = [];
    const a = ["a1", "a2", "a3"].map((name) => controlledJob(log, name));
    const b = ["b1"].map((name) => controlledJob(log, name));
    for (const { job } of a) lanes.submit("a", 10, job);
    for (const { job } of b) lanes.submit("b", 10, job);
    await flush();
    expect(log).toEqual(["start a1"]);
    a[0]!.finish();
    await flush();
    // b waited while a ran, so b goes before a's second job.
    expect(log).toEqual(["start a1", "end a1", "start b1"]);
    expect(lanes.globalInFlight).toBe(1);
  });

  test("a held lane starts nothing until released, and keeps its jobs", async () => {
    const lanes = newLanes(10);
    const log: string[] = [];
    lanes.hold("p");
    const job = controlledJob(log, "p1");
    lanes.submit("p", 5, job.job);
    await flush();
    expect(log).toEqual([]);
    expect(lanes.backlog("p")).toBe(1);
    lanes.release("p");
    await flush();
    expect(log).toEqual(["start p1"]);
  });

  test("drainQueued hands back jobs not started", async () => {
    const lanes = newLanes(10);
    const log: string[] = [];
    lanes.hold("p");
    lanes.submit("p", 5, controlledJob(log, "p1").job);
    lanes.submit("p", 5, controlledJob(log, "p2").job);
    expect(lanes.drainQueued("p")).toHaveLength(2);
    expect(lanes.backlog("p")).toBe(0);
  });

  test("a job that throws is reported and frees its slot", async () => {
    const errors: unknown[] = [];
    const lanes = newLanes(1, errors);
    const log: string[] = [];
    lanes.submit("e", 1, { run: async () => { throw new Error("boom"); } });
    const next = controlledJob(log, "e2");
    lanes.submit("e", 1, next.job);
    await flush();
    expect(errors).toHaveLength(1);
    expect(log).toEqual(["start e2"]);
    next.finish();
    await lanes.whenIdle();
    expect(lanes.globalInFlight).toBe(0);
  });
});
