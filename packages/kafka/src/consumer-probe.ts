import type { ConsumerStatus } from "./kafka-consumer.js";

/**
 * What a consumer's status means for the two probes. Live: nothing a restart would fix (a
 * consumer crashed or stopped for good is the one thing that does). Ready: it reads now, or is
 * joining its group (a subscription change re-joins), or has no topic yet to read. A consumer not
 * started yet (`undefined`, `idle`) is live but not ready; one restarting after a crash is not
 * ready until it has joined again.
 */
export function consumerProbe(status: ConsumerStatus | undefined): { live: boolean; ready: boolean } {
  switch (status) {
    case "running":
    case "starting":
    case "waiting-for-topics":
      return { live: true, ready: true };
    case "crashed":
    case "stopped":
      return { live: false, ready: false };
    default:
      return { live: true, ready: false };
  }
}
