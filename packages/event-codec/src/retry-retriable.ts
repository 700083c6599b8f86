import { NovatradeError } from "@novatrade/domain";

/** True for errors that waiting can fix (the registry or broker could not be reached). */
export function isRetriable(error: unknown): boolean {
  return error instanceof NovatradeError && error.retriable;
}

/**
 * Delay before retry number `attempt` (1-based), in milliseconds: doubling from `minDelayMs`,
 * capped at `maxDelayMs`.
 */
export function backoffDelayMs(attempt: number, minDelayMs: number, maxDelayMs: number): number {
  return Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
}

export interface RetryRetriableOptions {
  /** First delay, in milliseconds (default 200). */
  minDelayMs?: number;
  /** Longest delay, in milliseconds (default 5,000). */
  maxDelayMs?: number;
  /** Checked before each wait: once true, the last error is thrown instead of waiting again. */
  isStopped?: () => boolean;
  /** Told of each retriable failure before the wait (log it, mark the service not ready). */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Waits `ms` milliseconds; injected so unit tests need no timers. */
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` until it succeeds or fails with an error that is not retriable (thrown at once).
 * Retriable failures (an unreachable registry) are waited out with back-off: they must delay
 * work, never turn into "this record is bad".
 */
export async function retryWhileRetriable<T>(work: () => Promise<T>, options: RetryRetriableOptions = {}): Promise<T> {
  const { minDelayMs = 200, maxDelayMs = 5_000, sleep = realSleep } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isRetriable(error) || options.isStopped?.()) throw error;
      const delayMs = backoffDelayMs(attempt, minDelayMs, maxDelayMs);
      options.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs);
    }
  }
}
