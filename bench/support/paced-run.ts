import { waitUntil } from "../../test/support/wait-until.js";
import type { BenchDispatcher } from "./dispatcher.js";
import type { LoadGeneratorSummary } from "./load-generator.js";
import type { GroupSummary, ReceiverStats } from "./receiver-process.js";

export interface PacedRunOptions {
  eventsPerSecond: number;
  warmupS: number;
  durationS: number;
  reasonBytes?: number;
  /** Receiver groups whose every event must arrive before the run ends (default all). */
  mustDeliverGroups?: (group: string) => boolean;
  /** How many of the generated events those groups receive. */
  expectedDeliveries?: (sent: number) => number;
}

export interface PacedRunFigures {
  generator: LoadGeneratorSummary;
  /**
   * Per receiver group: the events created in the measured window (count, latency), and
   * deliveries/s of what arrived in the window.
   */
  window: Record<string, GroupSummary & { deliveriesPerSecond: number }>;
  /** The receiver's counters at the end, warm-up and start-up included. */
  receiver: ReceiverStats;
  /** The measured window: events created from `start` (epoch ms, after warm-up) to `end`. */
  windowMs: { start: number; end: number };
}

/**
 * Starts the services, runs the load generator for warm-up + window at a fixed rate, waits for
 * the deliveries that must arrive, and summarizes per receiver group the events created in the
 * window (after warm-up) and their latency from creation to receipt, and deliveries/s arrived in
 * the window.
 */
export async function pacedRun(dispatcher: BenchDispatcher, options: PacedRunOptions): Promise<PacedRunFigures> {
  const mustDeliver = options.mustDeliverGroups ?? (() => true);
  const expectedOf = options.expectedDeliveries ?? ((sent) => sent);
  const delivered = async (createdFrom: number) => {
    const groups = await dispatcher.receiver.summary("created", createdFrom, Number.MAX_SAFE_INTEGER);
    return Object.entries(groups).reduce((sum, [group, figures]) => sum + (mustDeliver(group) ? figures.deliveries : 0), 0);
  };
  await dispatcher.startServices();
  // One event per organization, delivered before the clock starts: the services have been
  // assigned their partitions and have read every endpoint (start-up is not what is measured).
  const organizations = dispatcher.organizations.length;
  await dispatcher.publishSpread(organizations);
  await waitUntil(async () => (await delivered(0)) >= expectedOf(organizations), { what: "one event per organization delivered", timeoutMs: 600_000, intervalMs: 250 });
  const startedAt = Date.now();
  const generator = dispatcher.startLoadGenerator({
    eventsPerSecond: options.eventsPerSecond,
    durationMs: (options.warmupS + options.durationS) * 1000,
    reasonBytes: options.reasonBytes,
  });
  const summary = await generator.done;
  const windowStart = startedAt + options.warmupS * 1000;
  const windowEnd = windowStart + options.durationS * 1000;
  const expected = expectedOf(summary.sent);
  // Every generated event of the groups that must deliver arrives (correctness, not timing).
  await waitUntil(async () => (await delivered(startedAt)) >= expected, { what: `${expected} deliveries`, timeoutMs: 600_000, intervalMs: 1_000 });
  const created = await dispatcher.receiver.summary("created", windowStart, windowEnd);
  const arrived = await dispatcher.receiver.summary("arrival", windowStart, windowEnd);
  const window = Object.fromEntries(
    Object.entries(created).map(([group, figures]) => [group, { ...figures, deliveriesPerSecond: Math.round((arrived[group]?.deliveries ?? 0) / options.durationS) }]),
  );
  return { generator: summary, window, receiver: await dispatcher.receiver.stats(), windowMs: { start: windowStart, end: windowEnd } };
}
