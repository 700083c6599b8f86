import { describe, expect, test } from "vitest";
import { EndpointLanes, type LaneJob } from "./endpoint-lanes.js";
import { manualClock } from "./manual-clock.js";

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

function newLanes(globalMaxInFlight: number, errors: unknown[] = [], clock = manualClock(), organizationMaxInFlight?: number) {
  return new EndpointLanes({ globalMaxInFlight, organizationMaxInFlight, clock, onJobError: (_id, error) => errors.push(error) });
}

const limits = (maxInFlight: number, rateLimitPerSecond: number | null = null, organizationUuid = "org-1") => ({ maxInFlight, rateLimitPerSecond, organizationUuid });

const starts = (log: string[]) => log.filter((line) => line.startsWith("start"));

describe("EndpointLanes", () => {
  test("an endpoint runs at most maxInFlight jobs; the next starts when one ends", async () => {
    const lanes = newLanes(100);
    const log: string[] = [];
    const jobs = ["a1", "a2", "a3"].map((name) => controlledJob(log, name));
    for (const { job } of jobs) lanes.submit("a", limits(2), job);
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
    for (const { job } of stuck) lanes.submit("slow", limits(2), job);
    const healthy = controlledJob(log, "fast");
    lanes.submit("fast", limits(2), healthy.job);
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
    for (const { job } of a) lanes.submit("a", limits(10), job);
    for (const { job } of b) lanes.submit("b", limits(10), job);
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
    lanes.hold("p", "paused");
    lanes.hold("p", "own-fault");
    const job = controlledJob(log, "p1");
    lanes.submit("p", limits(5), job.job);
    await flush();
    expect(log).toEqual([]);
    expect(lanes.backlog("p")).toBe(1);
    lanes.release("p", "paused");
    await flush();
    // Still held for the other reason.
    expect(log).toEqual([]);
    expect(lanes.heldFor("own-fault")).toEqual(["p"]);
    lanes.release("p", "own-fault");
    await flush();
    expect(log).toEqual(["start p1"]);
  });

  test("drain takes matching queued jobs out; requeueFirst puts one back at the head", async () => {
    const lanes = newLanes(10);
    const log: string[] = [];
    lanes.hold("p", "paused");
    const jobs = ["p1", "p2", "p3"].map((name) => controlledJob(log, name));
    for (const { job } of jobs) lanes.submit("p", limits(1), job);
    expect(lanes.drain("p", (job) => job === jobs[1]!.job)).toEqual([jobs[1]!.job]);
    expect(lanes.backlog("p")).toBe(2);
    lanes.requeueFirst("p", jobs[1]!.job);
    lanes.release("p", "paused");
    await flush();
    expect(log).toEqual(["start p2"]);
  });

  test("one organization cannot take every slot: 50 hanging endpoints of A, then B still starts at once", async () => {
    const lanes = newLanes(500, [], manualClock(), 250);
    const log: string[] = [];
    for (let endpoint = 0; endpoint < 50; endpoint++) {
      for (let job = 0; job < 10; job++) lanes.submit(`a${endpoint}`, limits(10, null, "A"), controlledJob(log, `a${endpoint}.${job}`).job);
    }
    await flush();
    expect(lanes.globalInFlight).toBe(250);
    const b = controlledJob(log, "b1");
    lanes.submit("b", limits(10, null, "B"), b.job);
    await flush();
    expect(log.at(-1)).toBe("start b1");
  });

  test("while another organization waits, each runs at most an equal share of the global bound", async () => {
    const lanes = newLanes(4);
    const log: string[] = [];
    const a = Array.from({ length: 6 }, (_, index) => controlledJob(log, `a${index}`));
    for (const [index, { job }] of a.entries()) lanes.submit(`a${index}`, limits(10, null, "A"), job);
    await flush();
    // Alone, A may use the whole bound.
    expect(starts(log)).toHaveLength(4);
    for (const name of ["b1", "b2", "b3"]) lanes.submit("b", limits(10, null, "B"), controlledJob(log, name).job);
    // A's slots go to B as they free up, until both hold their share of 2.
    a[0]!.finish();
    a[1]!.finish();
    await flush();
    expect(starts(log).slice(4)).toEqual(["start b1", "start b2"]);
    a[2]!.finish();
    await flush();
    expect(starts(log).slice(6)).toEqual(["start a4"]);
  });

  test("a held or drained organization no longer counts as waiting: the other gets its own bound again", async () => {
    const lanes = newLanes(4, [], manualClock(), 4);
    const log: string[] = [];
    // A's lane is full and holds more; while A waits, B may run only an equal share (2 of 4).
    const a = ["a1", "a2", "a3"].map((name) => controlledJob(log, name));
    for (const { job } of a) lanes.submit("a", limits(2, null, "A"), job);
    const b = ["b1", "b2", "b3", "b4"].map((name) => controlledJob(log, name));
    for (const { job } of b) lanes.submit("b", limits(10, null, "B"), job);
    await flush();
    expect(starts(log)).toEqual(["start a1", "start a2", "start b1", "start b2"]);
    // A's queued job is held: A waits for nothing, so B takes the slot A frees.
    lanes.hold("a", "paused");
    a[0]!.finish();
    await flush();
    expect(starts(log)).toEqual(["start a1", "start a2", "start b1", "start b2", "start b3"]);
    // Released, then its queued job taken out: A still waits for nothing, B takes the next slot too.
    lanes.release("a", "paused");
    expect(lanes.drain("a", () => true)).toHaveLength(1);
    a[1]!.finish();
    await flush();
    expect(starts(log)).toEqual(["start a1", "start a2", "start b1", "start b2", "start b3", "start b4"]);
  });

  test("10,000 endpoints of 10,000 organizations with a job each: all run, never more than the global bound at once", async () => {
    const lanes = newLanes(500);
    let running = 0;
    let most = 0;
    let done = 0;
    const release: Array<() => void> = [];
    for (let index = 0; index < 10_000; index++) {
      lanes.submit(`e${index}`, limits(20, null, `org${index}`), {
        run: async () => {
          running++;
          most = Math.max(most, running);
          await new Promise<void>((resolve) => release.push(resolve));
          running--;
          done++;
        },
      });
    }
    while (done < 10_000) {
      for (const finish of release.splice(0)) finish();
      await flush();
    }
    expect({ done, most, inFlight: lanes.globalInFlight }).toEqual({ done: 10_000, most: 500, inFlight: 0 });
  });

  test("after close nothing starts: not even a rate-limited job whose window opens later", async () => {
    const clock = manualClock();
    const lanes = newLanes(10, [], clock);
    const log: string[] = [];
    for (const name of ["r1", "r2"]) {
      const job = controlledJob(log, name);
      lanes.submit("r", limits(10, 1), job.job);
      job.finish();
    }
    await lanes.whenIdle();
    expect(starts(log)).toEqual(["start r1"]);
    lanes.close();
    clock.advance(2_000);
    await flush();
    expect(starts(log)).toEqual(["start r1"]);
  });

  test("sweep forgets idle lanes, keeps busy, held and rate-limited ones", async () => {
    const clock = manualClock();
    const lanes = newLanes(10, [], clock);
    const log: string[] = [];
    const idle = controlledJob(log, "idle");
    lanes.submit("idle", limits(1), idle.job);
    idle.finish();
    lanes.submit("busy", limits(1), controlledJob(log, "busy").job);
    lanes.hold("held", "paused");
    const limited = controlledJob(log, "limited");
    lanes.submit("limited", limits(1, 5), limited.job);
    limited.finish();
    await flush();
    lanes.sweep();
    expect(lanes.size).toBe(3);
    clock.advance(1_000);
    lanes.sweep();
    expect(lanes.size).toBe(2);
  });


  test("a job that throws is reported and frees its slot", async () => {
    const errors: unknown[] = [];
    const lanes = newLanes(1, errors);
    const log: string[] = [];
    lanes.submit("e", limits(1), { run: async () => { throw new Error("boom"); } });
    const next = controlledJob(log, "e2");
    lanes.submit("e", limits(1), next.job);
    await flush();
    expect(errors).toHaveLength(1);
    expect(log).toEqual(["start e2"]);
    next.finish();
    await lanes.whenIdle();
    expect(lanes.globalInFlight).toBe(0);
  });

  test("a rate-limited endpoint starts at most its rate per second, then the rest as the window moves", async () => {
    const clock = manualClock();
    const lanes = newLanes(100, [], clock);
    const log: string[] = [];
    const jobs = ["r1", "r2", "r3", "r4", "r5"].map((name) => controlledJob(log, name));
    for (const { job, finish } of jobs) {
      lanes.submit("r", limits(10, 2), job);
      finish();
    }
    await flush();
    expect(log.filter((line) => line.startsWith("start"))).toEqual(["start r1", "start r2"]);
    clock.advance(999);
    await flush();
    expect(log.filter((line) => line.startsWith("start"))).toHaveLength(2);
    clock.advance(1);
    await flush();
    expect(log.filter((line) => line.startsWith("start"))).toEqual(["start r1", "start r2", "start r3", "start r4"]);
    clock.advance(1_000);
    await flush();
    expect(log.filter((line) => line.startsWith("start"))).toHaveLength(5);
  });

  test("a rate-limited endpoint does not hold up an unlimited one", async () => {
    const clock = manualClock();
    const lanes = newLanes(100, [], clock);
    const log: string[] = [];
    for (const name of ["slow1", "slow2", "slow3"]) lanes.submit("slow", limits(10, 1), controlledJob(log, name).job);
    const fast = controlledJob(log, "fast");
    lanes.submit("fast", limits(10), fast.job);
    await flush();
    expect(log).toEqual(["start slow1", "start fast"]);
  });

  test("onJobSettled runs after the lane counted the job out, even when jobs end in the same tick", async () => {
    const settled: Array<{ endpointId: string; backlog: number }> = [];
    const lanes: EndpointLanes = new EndpointLanes<LaneJob>({
      globalMaxInFlight: 10,
      clock: manualClock(),
      onJobError: () => {},
      onJobSettled: (endpointId) => settled.push({ endpointId, backlog: lanes.backlog(endpointId) }),
    });
    let release!: () => void;
    const shared = new Promise<void>((resolve) => (release = resolve));
    for (let index = 0; index < 4; index++) lanes.submit("b", limits(10), { run: () => shared });
    release();
    await lanes.whenIdle();
    expect(settled.map((entry) => entry.backlog)).toEqual([3, 2, 1, 0]);
  });
});
