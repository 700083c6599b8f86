import { EventEmitter } from "node:events";
import { pino } from "pino";
import { describe, expect, test } from "vitest";
import { runService } from "./lifecycle.js";

/** Enough of `process` for runService: signals, and an exit that records instead of exiting. */
function fakeProcess() {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  let exited!: () => void;
  const whenExited = new Promise<void>((resolve) => (exited = resolve));
  return {
    processLike: {
      once: (event: string, listener: () => void) => emitter.once(event, listener),
      exit: (code?: number) => {
        exits.push(code ?? 0);
        exited();
      },
    } as unknown as Pick<NodeJS.Process, "once" | "exit">,
    signal: (name: string) => emitter.emit(name),
    exits,
    whenExited,
  };
}

const silent = pino({ level: "silent" });

describe("runService", () => {
  test("on SIGTERM stops what started, in reverse order, and exits 0", async () => {
    const fake = fakeProcess();
    const order: string[] = [];
    await runService(silent, async (onStop) => {
      onStop(() => void order.push("first"));
      onStop(() => void order.push("second"));
    }, fake.processLike);
    fake.signal("SIGTERM");
    await fake.whenExited;
    expect(order).toEqual(["second", "first"]);
    expect(fake.exits).toEqual([0]);
  });

  test("a start that fails half-way stops what did start and exits 1", async () => {
    const fake = fakeProcess();
    const order: string[] = [];
    await runService(silent, async (onStop) => {
      onStop(() => void order.push("started part"));
      throw new Error("registry unreachable");
    }, fake.processLike);
    await fake.whenExited;
    expect(order).toEqual(["started part"]);
    expect(fake.exits).toEqual([1]);
  });

  test("a stop that hangs does not keep the process alive past the deadline", async () => {
    const fake = fakeProcess();
    await runService(silent, async (onStop) => {
      onStop(() => new Promise<void>(() => {}));
    }, fake.processLike, 50);
    fake.signal("SIGINT");
    await fake.whenExited;
    expect(fake.exits).toEqual([1]);
  });
});
