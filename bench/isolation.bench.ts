import { describe, test } from "vitest";
import { decisionDataOfSize, withBenchDispatcher } from "./support/dispatcher.js";
import { numberKnob } from "./support/knobs.js";
import { pacedRun, type PacedRunFigures } from "./support/paced-run.js";
import { loadAverage } from "./support/process-stats.js";
import { machine, printTable, writeResults } from "./support/results.js";

/**
 * Issue 7, isolation: one endpoint in five hangs (its receiver path never answers) until the
 * sender's attempt timeout; the others must keep >= 90 % of their throughput and their p99
 * within 2x. Two runs back to back with the same settings and load: a baseline where every
 * endpoint answers at once, then the run with the hanging ones; figures of the healthy
 * endpoints (the same 80 % in both runs) side by side, and their ratios. A paced load generator
 * process spreads the events over all endpoints, hanging ones included; every event of a healthy
 * endpoint must arrive. Writes bench/results/isolation.json.
 *
 * Attempt timeout SENDER_HTTP_TIMEOUT_MS = BENCH_ISOLATION_TIMEOUT_MS (default 2000, production
 * default 10000), retry schedule 5s x5 (a hanging endpoint's deliveries come back every 5 s).
 * Knobs: BENCH_ISOLATION_RATE (events/s, default 500, the latency scenario's rate),
 * BENCH_ISOLATION_ENDPOINTS (default 100, an organization each), BENCH_DURATION_S (default 60),
 * BENCH_WARMUP_S (default 10), BENCH_PAYLOAD_BYTES (default 1024).
 */
const RATE = numberKnob("BENCH_ISOLATION_RATE", 500);
const ENDPOINTS = numberKnob("BENCH_ISOLATION_ENDPOINTS", 100);
const TIMEOUT_MS = numberKnob("BENCH_ISOLATION_TIMEOUT_MS", 2_000);
const DURATION_S = numberKnob("BENCH_DURATION_S", 60);
const WARMUP_S = numberKnob("BENCH_WARMUP_S", 10);
const PAYLOAD_BYTES = numberKnob("BENCH_PAYLOAD_BYTES", 1024);
const RETRY_SCHEDULE = "5s,5s,5s,5s,5s";
/** Every fifth endpoint (20 %) hangs in the second run. */
const hangs = (index: number) => index % 5 === 0;

async function run(withHanging: boolean): Promise<PacedRunFigures> {
  return withBenchDispatcher(
    {
      endpoints: ENDPOINTS,
      retrySchedule: RETRY_SCHEDULE,
      httpTimeoutMs: TIMEOUT_MS,
      url: (receiver, index) => (hangs(index) ? receiver.urlFor(withHanging ? "hang" : "hooks", "hanging") : receiver.urlFor("hooks", "healthy")),
    },
    (dispatcher) =>
      pacedRun(dispatcher, {
        eventsPerSecond: RATE,
        warmupS: WARMUP_S,
        durationS: DURATION_S,
        reasonBytes: (decisionDataOfSize(PAYLOAD_BYTES).reason as string).length,
        // Events go round-robin over the endpoints (an organization each, in order).
        mustDeliverGroups: (group) => group === "healthy",
        expectedDeliveries: (sent) => Array.from({ length: sent }, (_, event) => event % ENDPOINTS).filter((index) => !hangs(index)).length,
      }),
  );
}

describe("isolation", () => {
  test(`${ENDPOINTS} endpoints, 20 % hanging until a ${TIMEOUT_MS} ms timeout, ${RATE} events/s`, { timeout: 3_600_000 }, async () => {
    const loadAverageAtStart = loadAverage();
    const baseline = await run(false);
    const hanging = await run(true);
    const healthyBefore = baseline.window.healthy!;
    const healthyAfter = hanging.window.healthy!;
    const ratio = (after: number | null, before: number | null) => (after === null || before === null || before === 0 ? null : Number((after / before).toFixed(3)));
    const ratios = {
      healthyThroughput: ratio(healthyAfter.deliveriesPerSecond, healthyBefore.deliveriesPerSecond),
      healthyP99: ratio(healthyAfter.latencyMs.p99, healthyBefore.latencyMs.p99),
    };
    writeResults("isolation", {
      machine: machine(),
      date: new Date().toISOString(),
      loadAverageAtStart,
      loadAverageAfter: loadAverage(),
      configuration: {
        endpoints: ENDPOINTS,
        hangingEndpoints: Array.from({ length: ENDPOINTS }, (_, index) => index).filter(hangs).length,
        endpointsPerOrganization: 1,
        maxInFlight: 20,
        eventsPerSecond: RATE,
        durationS: DURATION_S,
        warmupS: WARMUP_S,
        payloadBytes: PAYLOAD_BYTES,
        senderHttpTimeoutMs: TIMEOUT_MS,
        retrySchedule: RETRY_SCHEDULE,
        pipeline: "test pipeline settings (test/support/pipeline.ts), SENDER_GLOBAL_MAX_IN_FLIGHT 500, SENDER_ENDPOINT_BACKLOG_LIMIT default (200)",
      },
      baseline: { generator: baseline.generator, healthy: healthyBefore, wouldHang: baseline.window.hanging ?? null, receiver: baseline.receiver },
      // receiver.hung: attempts the hanging endpoints held until the sender's timeout.
      withHanging: { generator: hanging.generator, healthy: healthyAfter, hanging: hanging.window.hanging ?? null, receiver: hanging.receiver },
      ratios,
      targets: { healthyThroughput: ">= 0.9", healthyP99: "<= 2" },
    });
    printTable("isolation, healthy endpoints: baseline → with 20 % hanging (bench/results/isolation.json)", [
      { figure: "healthy deliveries/s", measured: `${healthyBefore.deliveriesPerSecond} → ${healthyAfter.deliveriesPerSecond}` },
      { figure: "healthy p50 ms", measured: `${healthyBefore.latencyMs.p50} → ${healthyAfter.latencyMs.p50}` },
      { figure: "healthy p99 ms", measured: `${healthyBefore.latencyMs.p99} → ${healthyAfter.latencyMs.p99}` },
      { figure: "healthy max ms", measured: `${healthyBefore.latencyMs.max} → ${healthyAfter.latencyMs.max}` },
      { figure: "attempts held until the timeout", measured: `${baseline.receiver.hung} → ${hanging.receiver.hung}` },
      { figure: "throughput ratio", measured: ratios.healthyThroughput, target: ">= 0.9" },
      { figure: "p99 ratio", measured: ratios.healthyP99, target: "<= 2" },
    ]);
  });
});
