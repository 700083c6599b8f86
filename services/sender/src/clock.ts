/**
 * Time as the sender sees it. Retry due times and delays come from here, so a test can run all
 * ten attempts in seconds with a compressed schedule, or drive time itself.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Runs `callback` after `delayMs`; returns a cancel function. */
  schedule(delayMs: number, callback: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(delayMs, callback) {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    timer.unref();
    return () => clearTimeout(timer);
  },
};
