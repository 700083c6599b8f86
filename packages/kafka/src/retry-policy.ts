import type { RetryOptions } from "kafkajs";

/** How the client retries a failing request: exponential backoff with jitter, as kafkajs does. */
export interface RetryPolicy {
  /** Attempts after the first; kafkajs's default is 5. */
  retries?: number;
  /** First backoff, in milliseconds; kafkajs's default is 300. */
  initialRetryTimeMs?: number;
  /** Longest backoff, in milliseconds; kafkajs's default is 30000. */
  maxRetryTimeMs?: number;
}

export function toClientRetry(policy: RetryPolicy | undefined): RetryOptions | undefined {
  if (!policy) return undefined;
  const retry: RetryOptions = {};
  if (policy.retries !== undefined) retry.retries = policy.retries;
  if (policy.initialRetryTimeMs !== undefined) retry.initialRetryTime = policy.initialRetryTimeMs;
  if (policy.maxRetryTimeMs !== undefined) retry.maxRetryTime = policy.maxRetryTimeMs;
  return retry;
}
