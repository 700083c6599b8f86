/**
 * The faults of a chaos run, in a random order (seeded, so a failing run can be repeated).
 * Pure: what to do and for how long; `chaos.run.ts` does it.
 */
export type FaultKind = "kill-service" | "kill-broker" | "rolling-restart" | "stop-registry" | "stop-postgres";

export interface PlannedFault {
  kind: FaultKind;
  /** A service name for kill-service, a broker node (1–3) for kill-broker. */
  target?: string | number;
  /** How long the component stays down before it is started again, in milliseconds. */
  outageMs: number;
}

export interface FaultPlanOptions {
  /** The `make test` version: each kind once, short outages. */
  short: boolean;
  /** Broker faults need a cluster (three nodes); on one broker they are left out. */
  cluster: boolean;
  seed: number;
}

/** mulberry32: a small seeded generator, enough to shuffle a plan reproducibly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function planFaults({ short, cluster, seed }: FaultPlanOptions): PlannedFault[] {
  const random = seededRandom(seed);
  const kills = short ? 1 : 3;
  const plan: PlannedFault[] = [];
  for (const service of ["router", "sender", "projector"]) {
    for (let i = 0; i < kills; i++) plan.push({ kind: "kill-service", target: service, outageMs: 500 + Math.floor(random() * 2_500) });
  }
  if (cluster) {
    plan.push({ kind: "kill-broker", target: 1 + Math.floor(random() * 3), outageMs: short ? 10_000 : 30_000 });
    if (!short) plan.push({ kind: "rolling-restart", outageMs: 0 });
  }
  plan.push({ kind: "stop-registry", outageMs: short ? 10_000 : 20_000 });
  plan.push({ kind: "stop-postgres", outageMs: short ? 15_000 : 60_000 });
  // Fisher–Yates with the seeded generator.
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [plan[i], plan[j]] = [plan[j]!, plan[i]!];
  }
  return plan;
}
