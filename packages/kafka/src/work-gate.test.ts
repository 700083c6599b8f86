import { describe, expect, it } from "vitest";
import { hasWork, WorkGate } from "./work-gate.js";

describe("hasWork", () => {
  it.each<[string, bigint | undefined, bigint | undefined, boolean]>([
    ["end beyond the position", 5n, 6n, true],
    ["caught up", 6n, 6n, false],
    ["position beyond the end (end polled before the last batch)", 7n, 6n, false],
    ["empty partition", 0n, 0n, false],
    ["position not known yet", undefined, 6n, false],
    ["end not polled yet", 5n, undefined, false],
  ])("%s", (_case, position, end, expected) => {
    expect(hasWork(position, end)).toBe(expected);
  });
});

type Step =
  | ["position" | "init" | "end" | "raise", number, string]
  | ["fetched", number, string, string];

describe("WorkGate", () => {
  it.each<[string, Step[], { resume: number[]; pause: number[] }]>([
    ["nothing known: nothing to fetch", [], { resume: [], pause: [] }],
    ["records beyond the committed offset: fetch", [["init", 0, "3"], ["end", 0, "5"]], { resume: [0], pause: [] }],
    ["committed at the end: stay paused", [["init", 0, "5"], ["end", 0, "5"]], { resume: [], pause: [] }],
    ["a seek is not overwritten by a late committed offset", [["position", 0, "2"], ["init", 0, "5"], ["end", 0, "5"]], { resume: [0], pause: [] }],
    ["a batch up to the end: still nothing to fetch", [["init", 0, "3"], ["fetched", 0, "3", "4"], ["end", 0, "5"]], { resume: [], pause: [] }],
    ["a batch that stops short of the end", [["init", 0, "3"], ["fetched", 0, "3", "3"], ["end", 0, "5"]], { resume: [0], pause: [] }],
    ["a batch after a gap says nothing: fetch", [["init", 0, "3"], ["fetched", 0, "4", "4"], ["end", 0, "5"]], { resume: [0], pause: [] }],
    ["a stale batch behind a seek back: fetch from the seek", [["init", 0, "3"], ["position", 0, "1"], ["fetched", 0, "2", "4"], ["end", 0, "5"]], { resume: [0], pause: [] }],
    ["an older batch does not move the position back", [["init", 0, "5"], ["fetched", 0, "1", "2"], ["end", 0, "5"]], { resume: [], pause: [] }],
    ["a signalled end beyond the position: fetch", [["init", 0, "3"], ["raise", 0, "4"]], { resume: [0], pause: [] }],
    ["a late signalled read never moves the polled end back", [["init", 0, "3"], ["end", 0, "5"], ["raise", 0, "3"]], { resume: [0], pause: [] }],
    ["only the partition with work", [["init", 0, "5"], ["init", 1, "2"], ["end", 0, "5"], ["end", 1, "9"]], { resume: [1], pause: [] }],
  ])("%s", (_case, steps, expected) => {
    const gate = new WorkGate();
    gate.assign([{ topic: "t", partition: 0 }, { topic: "t", partition: 1 }]);
    for (const step of steps) {
      if (step[0] === "position") gate.setPosition("t", step[1], step[2]);
      else if (step[0] === "init") gate.initPosition("t", step[1], step[2]);
      else if (step[0] === "end") gate.setEnd("t", step[1], step[2]);
      else if (step[0] === "raise") gate.raiseEnd("t", step[1], step[2]);
      else if (step[0] === "fetched") gate.fetched("t", step[1], step[2], step[3]);
    }
    const changes = gate.changes();
    expect({ resume: changes.resume.map((p) => p.partition), pause: changes.pause.map((p) => p.partition) }).toEqual(expected);
  });

  it("pauses a partition once a batch caught it up, and resumes it when its end moves on", () => {
    const gate = new WorkGate();
    gate.assign([{ topic: "t", partition: 0 }]);
    gate.initPosition("t", 0, "0");
    gate.setEnd("t", 0, "3");
    expect(gate.changes().resume).toEqual([{ topic: "t", partition: 0 }]);
    expect(gate.changes()).toEqual({ resume: [], pause: [] });
    gate.fetched("t", 0, "0", "2");
    expect(gate.changesOf("t", 0).pause).toEqual([{ topic: "t", partition: 0 }]);
    expect(gate.counts()).toEqual({ active: 0, idle: 1, lingering: 0 });
    gate.setEnd("t", 0, "4");
    expect(gate.changes().resume).toEqual([{ topic: "t", partition: 0 }]);
    expect(gate.isActive("t", 0)).toBe(true);
  });

  it("forgets the old assignment at a new one: everything unknown again", () => {
    const gate = new WorkGate();
    gate.assign([{ topic: "a", partition: 0 }]);
    gate.initPosition("a", 0, "0");
    gate.setEnd("a", 0, "1");
    gate.changes();
    gate.assign([{ topic: "a", partition: 0 }, { topic: "b", partition: 0 }]);
    expect(gate.counts()).toEqual({ active: 0, idle: 2, lingering: 0 });
    expect(gate.withoutPosition()).toHaveLength(2);
    gate.setEnd("gone", 0, "9");
    expect(gate.changes()).toEqual({ resume: [], pause: [] });
  });
});

describe("WorkGate lingering", () => {
  const lingerMs = 1_000;
  let now = 0;
  const gateOf = (partitions: number, maxLingering = 10) => {
    const gate = new WorkGate({ lingerMs, maxLingering, now: () => now });
    gate.assign(Array.from({ length: partitions }, (_, partition) => ({ topic: "t", partition })));
    for (let partition = 0; partition < partitions; partition++) gate.initPosition("t", partition, "0");
    return gate;
  };
  /** Records 0..end-1 written and read: the partition was resumed, then caught up. */
  const readUpTo = (gate: WorkGate, partition: number, end: number) => {
    gate.raiseEnd("t", partition, String(end));
    const resumed = gate.changesOf("t", partition);
    gate.fetched("t", partition, String(end - 1), String(end - 1));
    return { resumed, caughtUp: gate.changesOf("t", partition) };
  };
  const partitionsOf = (refs: { partition: number }[]) => refs.map(({ partition }) => partition);

  it("keeps a caught-up partition fetched until lingerMs after its last records, then pauses it", () => {
    now = 0;
    const gate = gateOf(1);
    const { resumed, caughtUp } = readUpTo(gate, 0, 1);
    expect(partitionsOf(resumed.resume)).toEqual([0]);
    expect(caughtUp).toEqual({ resume: [], pause: [] });
    expect(gate.counts()).toEqual({ active: 1, idle: 0, lingering: 1 });
    now = 999;
    expect(gate.expire().pause).toEqual([]);
    expect(gate.changes()).toEqual({ resume: [], pause: [] }); // a full poll leaves it lingering
    now = 1_000;
    expect(partitionsOf(gate.expire().pause)).toEqual([0]);
    expect(gate.counts()).toEqual({ active: 0, idle: 1, lingering: 0 });
    expect(gate.expire().pause).toEqual([]);
  });

  it("restarts the linger when records are read again, with no resume in between", () => {
    now = 0;
    const gate = gateOf(1);
    readUpTo(gate, 0, 1);
    now = 800;
    const again = readUpTo(gate, 0, 2);
    expect(again.resumed).toEqual({ resume: [], pause: [] }); // still fetched: nothing to resume
    expect(again.caughtUp).toEqual({ resume: [], pause: [] });
    now = 1_500;
    expect(gate.expire().pause).toEqual([]);
    now = 1_800;
    expect(partitionsOf(gate.expire().pause)).toEqual([0]);
  });

  it("keeps at most maxLingering: the one that caught up first is paused first", () => {
    now = 0;
    const gate = gateOf(3, 2);
    readUpTo(gate, 0, 1);
    now = 10;
    readUpTo(gate, 1, 1);
    now = 20;
    const third = readUpTo(gate, 2, 1);
    expect(partitionsOf(third.caughtUp.pause)).toEqual([0]);
    expect(gate.counts()).toEqual({ active: 2, idle: 1, lingering: 2 });
    now = 1_010;
    expect(partitionsOf(gate.expire().pause)).toEqual([1]);
    now = 1_020;
    expect(partitionsOf(gate.expire().pause)).toEqual([2]);
  });

  it("a lingering partition that gets work is no longer lingering, and forgets its linger at a new assignment", () => {
    now = 0;
    const gate = gateOf(1);
    readUpTo(gate, 0, 1);
    gate.setEnd("t", 0, "5");
    expect(gate.changes()).toEqual({ resume: [], pause: [] });
    expect(gate.counts()).toEqual({ active: 1, idle: 0, lingering: 0 });
    now = 5_000;
    expect(gate.expire().pause).toEqual([]); // it has records to read: never let go for time
    gate.assign([{ topic: "t", partition: 0 }]);
    expect(gate.counts()).toEqual({ active: 0, idle: 1, lingering: 0 });
  });

  it("with lingerMs 0 pauses at once, as without options", () => {
    now = 0;
    const gate = new WorkGate({ lingerMs: 0, maxLingering: 10, now: () => now });
    gate.assign([{ topic: "t", partition: 0 }]);
    gate.initPosition("t", 0, "0");
    gate.raiseEnd("t", 0, "1");
    gate.changesOf("t", 0);
    gate.fetched("t", 0, "0", "0");
    expect(partitionsOf(gate.changesOf("t", 0).pause)).toEqual([0]);
  });
});
