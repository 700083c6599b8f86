import { nextAttemptDelay, retryDelayAfter, retryTopicForDelay, type TopicNaming } from "@novatrade/domain";
import { deliveryOutcome, type DeliveryOutcomeRecord, type DeliveryRequestRecord } from "@novatrade/event-codec";
import type { AttemptResult } from "./http-delivery.js";

/** What one attempt (or a decision not to attempt) leads to: the records to write, not yet encoded. */
export interface AttemptRecords {
  outcome: DeliveryOutcomeRecord;
  /** The next attempt, waiting in the retry topic of its delay; null when none follows. */
  retry: { topic: string; delayMs: number; request: DeliveryRequestRecord } | null;
  /** Emit `webhook.delivery_failed_terminal` (never for meta events: that would loop). */
  terminalEvent: boolean;
}

export interface AttemptContext {
  naming: TopicNaming;
  /** When the attempt started, epoch milliseconds. */
  startedAt: number;
  /** When it ended, epoch milliseconds: retry delays count from here. */
  endedAt: number;
  /** A value in [0, 1) for the jitter. */
  random: () => number;
  jitterRatio: number;
}

/**
 * Turns an attempt's result into the records to write (pure: time and randomness are passed in).
 * A failure with attempts left becomes a FAILED_RETRYING outcome plus the next attempt's request
 * in the retry topic of its delay; the last failure becomes FAILED_TERMINAL.
 */
export function recordsForAttempt(request: DeliveryRequestRecord, result: AttemptResult, context: AttemptContext): AttemptRecords {
  const facts = { attempt: request.attempt, attemptedAt: context.startedAt, statusCode: result.statusCode, latencyMs: result.latencyMs, responseBody: result.responseBody };
  if (result.ok) return { outcome: deliveryOutcome(request, "SUCCEEDED", facts), retry: null, terminalEvent: false };
  const failure = { ...facts, errorClass: result.errorClass, errorMessage: result.message };
  const baseDelay = retryDelayAfter(request.retrySchedule, request.attempt);
  const delay = nextAttemptDelay(request.retrySchedule, request.attempt, context.random, context.jitterRatio);
  if (baseDelay === null || delay === null) {
    return { outcome: deliveryOutcome(request, "FAILED_TERMINAL", failure), retry: null, terminalEvent: !request.isMeta };
  }
  const dueAt = context.endedAt + delay;
  const next: DeliveryRequestRecord = { ...request, attempt: request.attempt + 1, firstAttemptAt: request.firstAttemptAt ?? context.startedAt, notBefore: dueAt };
  return {
    outcome: deliveryOutcome(request, "FAILED_RETRYING", { ...failure, nextAttemptAt: dueAt }),
    retry: { topic: retryTopicForDelay(context.naming, baseDelay), delayMs: baseDelay, request: next },
    terminalEvent: false,
  };
}

/** A delivery not attempted because nobody can receive it: a SKIPPED outcome only. */
export function recordsForSkip(request: DeliveryRequestRecord, reason: string, now: number): AttemptRecords {
  return { outcome: deliveryOutcome(request, "SKIPPED", { attempt: 0, attemptedAt: now, errorClass: reason }), retry: null, terminalEvent: false };
}
