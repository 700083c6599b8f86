import { machine, writeResults } from "./results.js";

/**
 * What the endpoint-scale benchmarks share (bench/endpoint-scale.bench.ts, one sender and one
 * router; bench/scale-out.bench.ts, two of each) beyond the general bench helpers: the production
 * topic refresh, their results files, and how they print durations and shares.
 */

/**
 * The test pipeline lists every topic of the cluster each second to find new delivery topics;
 * in production that is every 30 s (a new endpoint is picked up at once through the endpoint
 * directory either way). Listing 10,000 topics each second is not what idle costs in production.
 */
export const PRODUCTION_TOPIC_REFRESH = { SENDER_TOPIC_REFRESH_MS: "30000" };

/**
 * The test pipeline polls the delivery partitions' end offsets every 5 s even while the work
 * signals are read (tests write records without signals); in production that poll is every
 * 30 s then (SENDER_END_OFFSET_POLL_SIGNALLED_MS), and 10,000 partitions polled every 5 s is
 * not what idle costs in production.
 */
export const PRODUCTION_END_OFFSET_POLL = { SENDER_END_OFFSET_POLL_SIGNALLED_MS: "30000" };

/**
 * What a benchmark writes to bench/results/<name>.json: the machine, when, its configuration and
 * one entry per run. `write()` writes and prints it (in `afterAll`, so failed runs are kept too).
 */
export function benchResults(name: string, configuration: Record<string, unknown>) {
  const results = { machine: machine(), date: new Date().toISOString(), configuration, runs: [] as Record<string, unknown>[] };
  return {
    runs: results.runs,
    write() {
      writeResults(name, results);
      console.log(JSON.stringify(results, null, 2));
    },
  };
}

export function seconds(since: number): number {
  return Number(((performance.now() - since) / 1000).toFixed(2));
}

export function percent(share: number): number {
  return Number((share * 100).toFixed(1));
}
