/** The work gate's end-offset poll intervals (see SENDER_END_OFFSET_POLL_MS and …_SIGNALLED_MS). */
export interface EndOffsetPollIntervals {
  /** While this sender does not read the work signals, in milliseconds. */
  unsignalledMs: number;
  /** While it reads them, in milliseconds. */
  signalledMs: number;
}

/**
 * How long the work gate waits before its next end-offset poll, in milliseconds. The poll is
 * the safety net for records nobody signalled: while this sender reads the router's work
 * signals it only catches a signal lost on its way (rare: the router logs each), so it can be
 * slow; while the signals consumer is not reading (starting, rejoining, crashed) every write
 * goes unsignalled, and the short interval applies. A 10,000-partition poll is the sender's and
 * the broker's largest cost while every endpoint is idle.
 */
export function endOffsetPollMs(signalsRead: boolean, intervals: EndOffsetPollIntervals): number {
  return signalsRead ? intervals.signalledMs : intervals.unsignalledMs;
}
