import type { Clock } from "./clock.js";

/**
 * A clock tests move by hand (the injected-clock counterpart of `systemClock`); scheduled
 * callbacks run when their time is reached, in the order they are due.
 */
export function manualClock(start = 1_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  const timers: Array<{ at: number; callback: () => void }> = [];
  return {
    now: () => now,
    schedule(delayMs, callback) {
      const timer = { at: now + delayMs, callback };
      timers.push(timer);
      return () => {
        const index = timers.indexOf(timer);
        if (index >= 0) timers.splice(index, 1);
      };
    },
    advance(ms) {
      now += ms;
      for (const timer of timers.filter((entry) => entry.at <= now).sort((a, b) => a.at - b.at)) {
        timers.splice(timers.indexOf(timer), 1);
        timer.callback();
      }
    },
  };
}
