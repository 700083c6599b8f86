/**
 * Per-endpoint work lanes: each endpoint runs at most its own `maxInFlight` attempts at once
 * and starts at most `rateLimitPerSecond` per second (when it has one), and all endpoints
 * together run at most `globalMaxInFlight`. A lane that is held (endpoint paused, or a fault of
 * ours) starts nothing and keeps its jobs. A slow endpoint fills only its own lane, so it never
 * delays another endpoint's deliveries (SPEC §4, isolation).
 *
 * The global bound is shared fairly: endpoints with startable work take turns (round robin), and
 * one organization never runs more than `organizationMaxInFlight` at once, nor more than an equal
 * share of the global bound while another organization has work waiting. So 50 hanging endpoints
 * of one tenant cannot hold every slot while another tenant's deliveries wait.
 */
export interface LaneJob {
  /** The part of the job that holds a slot: the HTTP attempt. */
  run(): Promise<void>;
}

/** How fast and how wide one endpoint may go, and whose share it counts against. */
export interface LaneLimits {
  maxInFlight: number;
  /** Attempts started per second at most; null = no rate limit. */
  rateLimitPerSecond: number | null;
  organizationUuid: string;
}

interface Lane<J extends LaneJob> {
  queue: J[];
  inFlight: number;
  limits: LaneLimits;
  /** Why the lane starts nothing now; empty = it may start. */
  holds: Set<string>;
  /** Start times (epoch ms) within the last second, oldest first, for the rate limit. */
  recentStarts: number[];
  /** Cancels the pump scheduled for when the rate limit lets this lane start again. */
  cancelWake: (() => void) | null;
  /** The organization this lane is counted under in `#waitingOrganizations` (null: not counted). */
  countedFor: string | null;
}

/** The time the lanes need: now, and a timer for when a rate-limited lane may start again. */
export interface LaneClock {
  now(): number;
  schedule(delayMs: number, callback: () => void): () => void;
}

const RATE_WINDOW_MS = 1_000;

export class EndpointLanes<J extends LaneJob = LaneJob> {
  readonly #lanes = new Map<string, Lane<J>>();
  /** Attempts running per organization. */
  readonly #organizationInFlight = new Map<string, number>();
  readonly #globalMaxInFlight: number;
  readonly #organizationMaxInFlight: number;
  #globalInFlight = 0;
  #closed = false;
  /** Endpoints with queued work, in turn order (a Set keeps insertion order), so global capacity is shared fairly. */
  readonly #ready = new Set<string>();
  /**
   * Per organization, its lanes with a job that could start but for the global bound or the
   * shares (not held, work queued, under their own maxInFlight). Kept up to date at every change
   * of a lane, not recomputed per start: with thousands of endpoints ready, a scan of them all
   * per started and per finished attempt blocked the event loop for seconds.
   */
  readonly #waitingOrganizations = new Map<string, number>();
  readonly #onJobError: (endpointId: string, error: unknown) => void;
  readonly #onJobSettled: (endpointId: string) => void;
  readonly #idleWaiters: Array<() => void> = [];
  readonly #clock: LaneClock;

  constructor(options: {
    globalMaxInFlight: number;
    /** Most attempts one organization runs at once; default: the global bound. */
    organizationMaxInFlight?: number;
    clock: LaneClock;
    onJobError: (endpointId: string, error: unknown) => void;
    /** After a job ended and the lane counted it out, so `backlog()` no longer includes it. */
    onJobSettled?: (endpointId: string) => void;
  }) {
    this.#globalMaxInFlight = options.globalMaxInFlight;
    this.#organizationMaxInFlight = Math.min(options.organizationMaxInFlight ?? options.globalMaxInFlight, options.globalMaxInFlight);
    this.#clock = options.clock;
    this.#onJobError = options.onJobError;
    this.#onJobSettled = options.onJobSettled ?? (() => {});
  }

  /** Queues a job; `limits` are the endpoint's current ones (they may change between jobs). */
  submit(endpointId: string, limits: LaneLimits, job: J): void {
    const lane = this.#lane(endpointId);
    lane.limits = limits;
    lane.queue.push(job);
    this.#recount(lane);
    this.#markReady(endpointId);
    this.#pump();
  }

  /** Puts a job back at the head of its lane (it could not run now and keeps its place). */
  requeueFirst(endpointId: string, job: J): void {
    const lane = this.#lane(endpointId);
    lane.queue.unshift(job);
    this.#recount(lane);
    this.#markReady(endpointId);
    this.#pump();
  }

  /** Stop starting this endpoint's jobs for `reason`; running ones finish. */
  hold(endpointId: string, reason: string): void {
    const lane = this.#lane(endpointId);
    lane.holds.add(reason);
    this.#recount(lane);
  }

  /** Lifts one reason; the lane starts again once it has none. */
  release(endpointId: string, reason: string): void {
    const lane = this.#lanes.get(endpointId);
    if (!lane || !lane.holds.delete(reason)) return;
    this.#recount(lane);
    this.#markReady(endpointId);
    this.#pump();
  }

  isHeld(endpointId: string): boolean {
    return (this.#lanes.get(endpointId)?.holds.size ?? 0) > 0;
  }

  /** Endpoints held for `reason`. */
  heldFor(reason: string): string[] {
    return [...this.#lanes].filter(([, lane]) => lane.holds.has(reason)).map(([endpointId]) => endpointId);
  }

  /** Takes the queued (not started) jobs of an endpoint that match `predicate` out of its lane. */
  drain(endpointId: string, predicate: (job: J) => boolean): J[] {
    const lane = this.#lanes.get(endpointId);
    if (!lane) return [];
    const taken = lane.queue.filter(predicate);
    if (taken.length > 0) lane.queue = lane.queue.filter((job) => !predicate(job));
    this.#recount(lane);
    return taken;
  }

  /** Jobs waiting (not started) plus running, for back-pressure decisions. */
  backlog(endpointId: string): number {
    const lane = this.#lanes.get(endpointId);
    return lane ? lane.queue.length + lane.inFlight : 0;
  }

  get globalInFlight(): number {
    return this.#globalInFlight;
  }

  /** Lanes kept in memory (for tests and metrics): busy, held or rate-limited recently. */
  get size(): number {
    return this.#lanes.size;
  }

  /**
   * Starts nothing more, ever (shutdown): queued jobs stay queued and their records uncommitted,
   * and no rate-limit wake-up starts one after the final commit.
   */
  close(): void {
    this.#closed = true;
    for (const lane of this.#lanes.values()) {
      lane.cancelWake?.();
      lane.cancelWake = null;
    }
  }

  /** Forgets lanes with nothing queued, running or held, whose rate window has passed. */
  sweep(): void {
    const now = this.#clock.now();
    for (const [endpointId, lane] of this.#lanes) {
      const rateWindowOpen = lane.recentStarts.some((startedAt) => startedAt > now - RATE_WINDOW_MS);
      if (lane.queue.length === 0 && lane.inFlight === 0 && lane.holds.size === 0 && !rateWindowOpen && !lane.cancelWake) {
        this.#lanes.delete(endpointId);
      }
    }
  }

  /** Resolves when nothing runs (queued jobs of held lanes do not count). */
  whenIdle(): Promise<void> {
    if (this.#globalInFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #lane(endpointId: string): Lane<J> {
    let lane = this.#lanes.get(endpointId);
    if (!lane) {
      lane = { queue: [], inFlight: 0, limits: { maxInFlight: 1, rateLimitPerSecond: null, organizationUuid: "" }, holds: new Set(), recentStarts: [], cancelWake: null, countedFor: null };
      this.#lanes.set(endpointId, lane);
    }
    return lane;
  }

  #markReady(endpointId: string): void {
    this.#ready.add(endpointId);
  }

  /** Counts the lane under its organization in `#waitingOrganizations` iff it could start a job. */
  #recount(lane: Lane<J>): void {
    const startable = lane.holds.size === 0 && lane.queue.length > 0 && lane.inFlight < lane.limits.maxInFlight;
    const organization = startable ? lane.limits.organizationUuid : null;
    if (organization === lane.countedFor) return;
    if (lane.countedFor !== null) {
      const count = (this.#waitingOrganizations.get(lane.countedFor) ?? 1) - 1;
      if (count > 0) this.#waitingOrganizations.set(lane.countedFor, count);
      else this.#waitingOrganizations.delete(lane.countedFor);
    }
    if (organization !== null) this.#waitingOrganizations.set(organization, (this.#waitingOrganizations.get(organization) ?? 0) + 1);
    lane.countedFor = organization;
  }

  /**
   * Most attempts each organization may run now: its own bound, and while another organization
   * has work waiting, an equal share of the global bound among the organizations with work.
   */
  #organizationLimits(): (organization: string) => number {
    const waiting = this.#waitingOrganizations;
    let withWork = waiting.size;
    for (const [organization, running] of this.#organizationInFlight) if (running > 0 && !waiting.has(organization)) withWork++;
    const share = Math.min(this.#organizationMaxInFlight, Math.max(1, Math.floor(this.#globalMaxInFlight / Math.max(1, withWork))));
    const waitingAtStart = waiting.size;
    return (organization) => {
      const othersWaiting = waitingAtStart > 1 || (waitingAtStart === 1 && !waiting.has(organization));
      return othersWaiting ? share : this.#organizationMaxInFlight;
    };
  }

  #pump(): void {
    // Nothing can start at the global bound: no need to look at the lanes.
    if (this.#closed || this.#globalInFlight >= this.#globalMaxInFlight) return;
    const organizationLimit = this.#organizationLimits();
    // A Set visits what is added while it is iterated, as the array this was did: a lane moved
    // to the back of the line may take another turn in the same pump.
    for (const endpointId of this.#ready) {
      if (this.#globalInFlight >= this.#globalMaxInFlight) break;
      const lane = this.#lanes.get(endpointId);
      if (!lane || lane.holds.size > 0 || lane.queue.length === 0) {
        this.#ready.delete(endpointId);
        continue;
      }
      const organization = lane.limits.organizationUuid;
      const organizationRunning = this.#organizationInFlight.get(organization) ?? 0;
      if (
        lane.inFlight >= lane.limits.maxInFlight ||
        organizationRunning >= organizationLimit(organization) ||
        !this.#rateAllows(endpointId, lane)
      ) {
        continue;
      }
      const job = lane.queue.shift()!;
      if (lane.limits.rateLimitPerSecond !== null) lane.recentStarts.push(this.#clock.now());
      lane.inFlight++;
      this.#globalInFlight++;
      this.#organizationInFlight.set(organization, organizationRunning + 1);
      this.#recount(lane);
      // Round robin: the endpoint goes to the back so one busy endpoint cannot take every slot.
      this.#ready.delete(endpointId);
      if (lane.queue.length > 0) this.#ready.add(endpointId);
      void this.#runJob(endpointId, lane, organization, job);
    }
  }

  /**
   * Sliding one-second window. When the lane is at its rate, a pump is scheduled for the moment
   * the oldest start leaves the window; a rate-limited lane never spends an attempt waiting.
   */
  #rateAllows(endpointId: string, lane: Lane<J>): boolean {
    const limit = lane.limits.rateLimitPerSecond;
    if (limit === null) return true;
    const now = this.#clock.now();
    while (lane.recentStarts.length > 0 && lane.recentStarts[0]! <= now - RATE_WINDOW_MS) lane.recentStarts.shift();
    if (lane.recentStarts.length < limit) return true;
    if (!lane.cancelWake) {
      lane.cancelWake = this.#clock.schedule(lane.recentStarts[0]! + RATE_WINDOW_MS - now, () => {
        lane.cancelWake = null;
        this.#markReady(endpointId);
        this.#pump();
      });
    }
    return false;
  }

  async #runJob(endpointId: string, lane: Lane<J>, organization: string, job: J): Promise<void> {
    try {
      await job.run();
    } catch (error) {
      this.#onJobError(endpointId, error);
    } finally {
      lane.inFlight--;
      this.#globalInFlight--;
      const running = (this.#organizationInFlight.get(organization) ?? 1) - 1;
      if (running > 0) this.#organizationInFlight.set(organization, running);
      else this.#organizationInFlight.delete(organization);
      this.#recount(lane);
      // Back of the line: whoever waited while this endpoint ran goes first.
      this.#ready.delete(endpointId);
      if (lane.queue.length > 0) this.#ready.add(endpointId);
      this.#pump();
      this.#onJobSettled(endpointId);
      if (this.#globalInFlight === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }
}
