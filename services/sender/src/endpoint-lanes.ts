/**
 * Per-endpoint work lanes: each endpoint runs at most its own `maxInFlight` attempts at once
 * and starts at most `rateLimitPerSecond` per second (when it has one), and all endpoints
 * together run at most `globalMaxInFlight`. A lane that is held (endpoint paused)
 * starts nothing and keeps its jobs. A slow endpoint fills only its own lane, so it never delays
 * another endpoint's deliveries (SPEC §4, isolation); the global bound only caps the process.
 */
export interface LaneJob {
  run(): Promise<void>;
}

/** How fast and how wide one endpoint may go. */
export interface LaneLimits {
  maxInFlight: number;
  /** Attempts started per second at most; null = no rate limit. */
  rateLimitPerSecond: number | null;
}

interface Lane {
  queue: LaneJob[];
  inFlight: number;
  limits: LaneLimits;
  held: boolean;
  /** Start times (epoch ms) within the last second, oldest first, for the rate limit. */
  recentStarts: number[];
  /** A pump is scheduled for when the rate limit lets this lane start again. */
  wakeScheduled: boolean;
}

/** The time the lanes need: now, and a timer for when a rate-limited lane may start again. */
export interface LaneClock {
  now(): number;
  schedule(delayMs: number, callback: () => void): () => void;
}

const RATE_WINDOW_MS = 1_000;

export class EndpointLanes {
  readonly #lanes = new Map<string, Lane>();
  readonly #globalMaxInFlight: number;
  #globalInFlight = 0;
  /** Endpoints with startable work, in arrival order, so global capacity is shared fairly. */
  readonly #ready: string[] = [];
  readonly #onJobError: (endpointId: string, error: unknown) => void;
  readonly #onJobSettled: (endpointId: string) => void;
  readonly #idleWaiters: Array<() => void> = [];

  readonly #clock: LaneClock;

  constructor(options: {
    globalMaxInFlight: number;
    clock: LaneClock;
    onJobError: (endpointId: string, error: unknown) => void;
    /** After a job ended and the lane counted it out, so `backlog()` no longer includes it. */
    onJobSettled?: (endpointId: string) => void;
  }) {
    this.#globalMaxInFlight = options.globalMaxInFlight;
    this.#clock = options.clock;
    this.#onJobError = options.onJobError;
    this.#onJobSettled = options.onJobSettled ?? (() => {});
  }

  /** Queues a job; `limits` are the endpoint's current ones (they may change between jobs). */
  submit(endpointId: string, limits: LaneLimits, job: LaneJob): void {
    const lane = this.#lane(endpointId);
    lane.limits = limits;
    lane.queue.push(job);
    this.#markReady(endpointId);
    this.#pump();
  }

  /** Stop starting this endpoint's jobs; running ones finish. */
  hold(endpointId: string): void {
    this.#lane(endpointId).held = true;
  }

  release(endpointId: string): void {
    const lane = this.#lanes.get(endpointId);
    if (!lane || !lane.held) return;
    lane.held = false;
    this.#markReady(endpointId);
    this.#pump();
  }


  /** Jobs waiting (not started) plus running, for back-pressure decisions. */
  backlog(endpointId: string): number {
    const lane = this.#lanes.get(endpointId);
    return lane ? lane.queue.length + lane.inFlight : 0;
  }


  get globalInFlight(): number {
    return this.#globalInFlight;
  }

  /** Resolves when nothing runs (queued jobs of held lanes do not count). */
  whenIdle(): Promise<void> {
    if (this.#globalInFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #lane(endpointId: string): Lane {
    let lane = this.#lanes.get(endpointId);
    if (!lane) {
      lane = { queue: [], inFlight: 0, limits: { maxInFlight: 1, rateLimitPerSecond: null }, held: false, recentStarts: [], wakeScheduled: false };
      this.#lanes.set(endpointId, lane);
    }
    return lane;
  }

  #markReady(endpointId: string): void {
    if (!this.#ready.includes(endpointId)) this.#ready.push(endpointId);
  }

  #pump(): void {
    let index = 0;
    while (this.#globalInFlight < this.#globalMaxInFlight && index < this.#ready.length) {
      const endpointId = this.#ready[index]!;
      const lane = this.#lanes.get(endpointId);
      if (!lane || lane.held || lane.queue.length === 0) {
        this.#ready.splice(index, 1);
        continue;
      }
      if (lane.inFlight >= lane.limits.maxInFlight || !this.#rateAllows(endpointId, lane)) {
        index++;
        continue;
      }
      const job = lane.queue.shift()!;
      if (lane.limits.rateLimitPerSecond !== null) lane.recentStarts.push(this.#clock.now());
      lane.inFlight++;
      this.#globalInFlight++;
      // Round robin: the endpoint goes to the back so one busy endpoint cannot take every slot.
      this.#ready.splice(index, 1);
      if (lane.queue.length > 0) this.#ready.push(endpointId);
      void this.#runJob(endpointId, lane, job);
    }
  }

  /**
   * Sliding one-second window. When the lane is at its rate, a pump is scheduled for the moment
   * the oldest start leaves the window; a rate-limited lane never spends an attempt waiting.
   */
  #rateAllows(endpointId: string, lane: Lane): boolean {
    const limit = lane.limits.rateLimitPerSecond;
    if (limit === null) return true;
    const now = this.#clock.now();
    while (lane.recentStarts.length > 0 && lane.recentStarts[0]! <= now - RATE_WINDOW_MS) lane.recentStarts.shift();
    if (lane.recentStarts.length < limit) return true;
    if (!lane.wakeScheduled) {
      lane.wakeScheduled = true;
      this.#clock.schedule(lane.recentStarts[0]! + RATE_WINDOW_MS - now, () => {
        lane.wakeScheduled = false;
        this.#markReady(endpointId);
        this.#pump();
      });
    }
    return false;
  }

  async #runJob(endpointId: string, lane: Lane, job: LaneJob): Promise<void> {
    try {
      await job.run();
    } catch (error) {
      this.#onJobError(endpointId, error);
    } finally {
      lane.inFlight--;
      this.#globalInFlight--;
      // Back of the line: whoever waited while this endpoint ran goes first.
      const index = this.#ready.indexOf(endpointId);
      if (index >= 0) this.#ready.splice(index, 1);
      if (lane.queue.length > 0) this.#ready.push(endpointId);
      this.#pump();
      this.#onJobSettled(endpointId);
      if (this.#globalInFlight === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }
}
