import type { Consumer as ClientConsumer, ConsumerConfig, EachBatchPayload, EachMessagePayload } from "kafkajs";
import type { Logger } from "pino";
import type { ConsumerEvents } from "./consumer-events.js";
import { instrumentNetwork, type InstrumentationSource } from "./client-instrumentation.js";
import { errorForClient, KafkaError, toKafkaError } from "./kafka-error.js";
import { fromClientMessage, type KafkaMessage } from "./kafka-message.js";
import type { KafkaMetrics } from "./kafka-metrics.js";
import { Listeners, type Listener } from "./listeners.js";
import { toClientRetry, type RetryPolicy } from "./retry-policy.js";
import { SerialQueue } from "./serial-queue.js";
import { PausedPartitions, type TopicPartitionOffset, type TopicPartitions } from "./topic-partitions.js";
import { diffTopics, hasPattern, resolveTopics, type TopicSelector, type TopicSetChange } from "./topic-subscription.js";
import type { KafkaAdmin, PartitionSelection } from "./kafka-admin.js";
import { WorkGate, type PartitionRef, type WorkChanges } from "./work-gate.js";

export interface ConsumerOptions {
  groupId: string;
  /**
   * Exact names and/or patterns. Patterns are matched against the cluster's topics when the
   * consumer starts and again every `topicRefreshIntervalMs` (or on `refreshSubscription()`);
   * kafkajs itself matches a RegExp only once, at subscribe time.
   */
  topics: TopicSelector[];
  /**
   * Keeps only the matched topics this returns true for (e.g. one shard of the endpoint topics,
   * several consumers splitting one pattern between their groups).
   */
  topicFilter?: (topic: string) => boolean;
  /**
   * Where a partition without a committed offset starts: the earliest offset (true) or the
   * latest (false, the default). Topics that appear after the consumer started always start at
   * the earliest offset: everything in them is newer than the subscription.
   */
  fromBeginning?: boolean;
  /** Group session timeout, in milliseconds (kafkajs default 30000). */
  sessionTimeoutMs?: number;
  /** Time members get to rejoin during a rebalance, in milliseconds (kafkajs default 60000). */
  rebalanceTimeoutMs?: number;
  /**
   * Heartbeat interval, in milliseconds. Default: a tenth of `sessionTimeoutMs` when that is
   * given (a member misses several beats before it is dropped), else kafkajs's 3000.
   */
  heartbeatIntervalMs?: number;
  /** Most bytes fetched per partition per request (kafkajs default 1048576). */
  maxBytesPerPartition?: number;
  /**
   * Longest the broker holds a fetch waiting for data, in milliseconds. Default 1000 (kafkajs's
   * is 5000): pause, resume, seek and disconnect wait for the fetch in flight, so a long wait
   * makes them slow.
   */
  maxWaitTimeMs?: number;
  /** Age after which partition metadata is refreshed, in milliseconds (kafkajs default 300000). */
  metadataMaxAgeMs?: number;
  /**
   * How often a pattern subscription looks for created or deleted topics, in milliseconds;
   * 0 turns polling off (call `refreshSubscription()` instead). Default 30000. Ignored without
   * a pattern.
   */
  topicRefreshIntervalMs?: number;
  /**
   * Lists the cluster's topics for the periodic refresh only (default: a listing of its own each
   * time). Consumers that split one pattern between them (shards) share one listing this way:
   * at 10,000 topics each listing is a large metadata response. A refresh asked for with
   * `refreshSubscription()` always lists afresh.
   */
  periodicTopicListing?: () => Promise<string[]>;
  /** Read records of open and aborted transactions too (default false: read committed). */
  readUncommitted?: boolean;
  /** How a failing fetch or handler is retried before the consumer crashes (and restarts). */
  retry?: RetryPolicy;
  /**
   * Asked after a crash that kafkajs considers retriable (handler kept failing, broker lost):
   * restart the consumer or stay down. Default: always restart. Non-retriable crashes never
   * restart; both kinds are reported by the `crash` event and `status()`.
   */
  restartOnCrash?: (error: KafkaError) => boolean | Promise<boolean>;
  /**
   * Fetch only partitions with records left to read (the work gate). kafkajs names every
   * unpaused partition in every fetch, so a consumer of thousands of mostly idle topics (one per
   * endpoint) spends its event loop on fetches that return nothing. With this, every assigned
   * partition stays paused until its end offset, polled for all of them in one ListOffsets
   * request per broker, is beyond the consumer's position, and is paused again once a batch
   * caught it up. Pauses of the caller and the work gate compose: a partition is fetched only
   * if it has work and the caller did not pause it. A record reaches the handler within about
   * one poll interval after it is written.
   */
  readOnlyWithWork?: WorkGateOptions;
}

/** A committed offset some other group holds for a partition (null: none). */
export interface InheritedOffset {
  topic: string;
  partition: number;
  offset: string | null;
}

export interface WorkGateOptions {
  /**
   * How often the end offsets of every assigned partition are polled, in milliseconds. With
   * `checkForWork` called when records are written (a signal), this is only the safety net for
   * writes nobody signalled. A function is asked again before each wait (the caller may poll
   * less often while its signals arrive).
   */
  pollIntervalMs: number | (() => number);
  /**
   * How long a partition that caught up stays fetched, in milliseconds (default 0: paused at
   * once), and how many such partitions at most (default 50): a partition that gets records
   * again within it is read as soon as they arrive, with no signal, end-offset read or wait for
   * the next fetch cycle in between.
   */
  lingerMs?: number;
  maxLingering?: number;
  /**
   * Where a partition this group never committed starts when another group did: asked at a
   * group join for those partitions, before they are first read; the group reads from the
   * offset returned (not null), else from `fromBeginning`. Lets a consumer take over topics
   * from a group it replaces (the sender's shard layout changed).
   */
  inheritOffsets?: (partitions: PartitionRef[]) => Promise<InheritedOffset[]>;
}


/** What to do with an error a handler threw. */
export type HandlerErrorDecision =
  /** Let kafkajs retry the message/batch with backoff, then crash and restart from the last commit. */
  | "rethrow"
  /** Treat the message (eachMessage) or the whole batch (eachBatch) as handled and go on. */
  | "skip";

export interface HandlerErrorContext {
  topic: string;
  partition: number;
  /** The failing message's offset, or the first offset of the failing batch. */
  offset: string;
}

export type HandlerErrorPolicy = (
  error: unknown,
  context: HandlerErrorContext,
) => HandlerErrorDecision | Promise<HandlerErrorDecision>;

export interface MessageContext {
  /** Call during long work so the group does not consider this member dead. */
  heartbeat(): Promise<void>;
  /** Pauses this message's partition after this message; returns a function that resumes it. */
  pause(): () => void;
}

export interface KafkaBatch {
  topic: string;
  partition: number;
  highWatermark: string;
  messages: KafkaMessage[];
}

export interface BatchContext extends MessageContext {
  /** Marks a message handled (needed when `autoResolveBatch` is false). */
  resolveOffset(offset: string): void;
  /** False once the consumer is stopping: return early. */
  isRunning(): boolean;
  /** True once a seek made the rest of this batch irrelevant: return early. */
  isStale(): boolean;
}

export interface RunOptions {
  eachMessage?: (message: KafkaMessage, context: MessageContext) => Promise<void>;
  eachBatch?: (batch: KafkaBatch, context: BatchContext) => Promise<void>;
  /** Partitions handled at the same time (default 1); order is kept within a partition. */
  partitionsConsumedConcurrently?: number;
  /**
   * Commit handled offsets automatically (kafkajs default: true). With false, nothing is
   * committed unless `commit()` is called; a restart resumes at the last commit.
   */
  autoCommit?: boolean;
  /** Auto-commit at most this often, in milliseconds (with `autoCommit`). */
  autoCommitIntervalMs?: number;
  /**
   * With eachBatch: when the handler returns, mark the whole batch handled (default true).
   * Set false if the handler may return early (isStale/isRunning) and resolve offsets itself.
   */
  autoResolveBatch?: boolean;
  /** Default: log at error level and rethrow (kafkajs retries, then crashes and restarts). */
  onHandlerError?: HandlerErrorPolicy;
}

/** Where a consumer is in its life; `crashed` means it will not restart on its own. */
export type ConsumerStatus =
  | "idle"
  | "waiting-for-topics"
  | "starting"
  | "running"
  | "restarting"
  | "crashed"
  | "stopped";

export interface KafkaConsumer {
  readonly groupId: string;
  /** Connects, subscribes and starts handling; resolves once the group is first joined. */
  run(options: RunOptions): Promise<void>;
  /** Commits positions: `offset` is the next offset to read (`nextOffset(message.offset)`). */
  commit(offsets: TopicPartitionOffset[]): Promise<void>;
  /** Stops fetching from these partitions; kept across rebalances, restarts and re-subscriptions. */
  pause(selection: TopicPartitions[]): void;
  resume(selection: TopicPartitions[]): void;
  isPaused(topic: string, partition: number): boolean;
  /**
   * Next fetch of this partition starts at `offset`. Not committed (with autoCommit off). Never
   * throws: while kafkajs has no live group (starting, restarting, re-subscribing) the seek is
   * kept and applied at the next group join, like a pause.
   */
  seek(position: TopicPartitionOffset): void;
  /**
   * Pauses one partition and makes its next fetch start at `offset`, as one operation: both are
   * recorded before either is applied, so a failure half-way (a group rebuilt in between) cannot
   * leave the partition paused without its seek, or sought without its pause. `resume` undoes it.
   */
  pauseAt(position: TopicPartitionOffset): void;
  /** Partitions assigned to this member at the last group join. */
  assignment(): TopicPartitions[];
  /**
   * With `readOnlyWithWork`: assigned partitions the work gate lets through (active) or keeps
   * paused (idle), and how many kafkajs actually names in its fetches (active and not paused
   * by the caller). Null without the work gate.
   */
  workPartitions(): { active: number; idle: number; fetching: number } | null;
  /**
   * With `readOnlyWithWork`: records were (probably) just written to these topics; reads their
   * assigned partitions' end offsets now instead of at the next poll. Topics not assigned to this
   * member are ignored. Calls made while one is in flight are merged into the next.
   */
  checkForWork(topics: readonly string[]): void;
  /** Topics currently subscribed (patterns resolved). */
  topics(): string[];
  /** Matches patterns against the cluster now; re-subscribes (a rebalance) if the set changed. */
  refreshSubscription(): Promise<TopicSetChange>;
  /**
   * Adds topics known to exist (e.g. a new endpoint's, created before it was announced) that
   * match the subscription, without listing the cluster's topics: at 10,000 topics a listing is
   * a large metadata response, and one per new endpoint adds up. Re-subscribes if any is new.
   */
  subscribeAlso(topics: readonly string[]): Promise<TopicSetChange>;
  status(): ConsumerStatus;
  on<E extends keyof ConsumerEvents>(event: E, listener: Listener<ConsumerEvents[E]>): () => void;
  /** Waits for handlers in flight, leaves the group, closes connections. */
  disconnect(): Promise<void>;
}

export interface ConsumerDependencies {
  createClientConsumer(config: ConsumerConfig): ClientConsumer;
  listTopics(): Promise<string[]>;
  /** Offsets for the work gate (`readOnlyWithWork`). */
  offsets?: Pick<KafkaAdmin, "fetchPartitionOffsets" | "fetchCommittedOffsets">;
  metrics: KafkaMetrics;
  logger: Logger;
}

const DEFAULT_TOPIC_REFRESH_INTERVAL_MS = 30_000;
const DEFAULT_MAX_WAIT_TIME_MS = 1_000;
const DEFAULT_HEARTBEAT_INTERVAL_MS = 3_000;
const DEFAULT_MAX_LINGERING = 50;

function defaultHandlerErrorPolicy(): HandlerErrorDecision {
  return "rethrow";
}

class PatternAwareConsumer implements KafkaConsumer {
  readonly groupId: string;
  private readonly logger: Logger;
  private readonly listeners: Listeners<ConsumerEvents>;
  private readonly lifecycle = new SerialQueue();
  private readonly paused = new PausedPartitions();
  /** Seeks not yet applied to kafkajs (no live group when asked), by `partition:topic`. */
  private readonly pendingSeeks = new Map<string, TopicPartitionOffset>();
  /** Per topic: whether it starts at the earliest offset when the group has no commit for it. */
  private readonly startAtEarliest = new Map<string, boolean>();
  private inner: ClientConsumer | undefined;
  private detachInner: (() => void) | undefined;
  private runOptions: RunOptions | undefined;
  private subscribed: string[] = [];
  private assigned: TopicPartitions[] = [];
  private state: ConsumerStatus = "idle";
  private refreshTimer: NodeJS.Timeout | undefined;
  /** Assigned partitions by topic, at the last group join. */
  private assignedByTopic = new Map<string, number[]>();
  /** The work gate (`readOnlyWithWork`), its poll timer, and the group join its state is of. */
  private readonly work: WorkGate | undefined;
  private workTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private workPolling = false;
  private joins = 0;
  private lastWorkPollFailure = 0;
  /** Topics `checkForWork` was asked about and not yet checked, and whether a check runs. */
  private readonly workToCheck = new Set<string>();
  private workChecking = false;
  /** Topics `subscribeAlso` was asked for that the re-subscription waiting its turn will add. */
  private readonly topicsToAdd = new Set<string>();
  private pendingAddition: Promise<TopicSetChange> | undefined;

  constructor(
    private readonly options: ConsumerOptions,
    private readonly deps: ConsumerDependencies,
  ) {
    this.groupId = options.groupId;
    this.logger = deps.logger.child({ component: "kafka-consumer", groupId: options.groupId });
    if (options.readOnlyWithWork) {
      if (!deps.offsets) throw new KafkaError("readOnlyWithWork needs the offsets dependency");
      const { lingerMs = 0, maxLingering = DEFAULT_MAX_LINGERING } = options.readOnlyWithWork;
      this.work = new WorkGate({ lingerMs, maxLingering, now: () => performance.now() });
    }
    this.listeners = new Listeners((error, event) =>
      this.logger.error({ err: error, event }, "kafka consumer event listener failed"),
    );
  }

  async run(options: RunOptions): Promise<void> {
    if ((options.eachMessage === undefined) === (options.eachBatch === undefined)) {
      throw new KafkaError("run needs exactly one of eachMessage and eachBatch");
    }
    await this.lifecycle.run(async () => {
      if (this.state !== "idle") throw new KafkaError(`consumer cannot run: it is ${this.state}`);
      this.runOptions = options;
      const topics = await this.resolve();
      for (const topic of topics) this.startAtEarliest.set(topic, this.options.fromBeginning ?? false);
      this.subscribed = topics;
      this.deps.metrics.subscribedTopics(this.groupId, topics.length);
      try {
        await this.startInner();
      } catch (error) {
        this.state = "idle"; // run() may be called again
        throw error;
      }
    });
    const interval = this.options.topicRefreshIntervalMs ?? DEFAULT_TOPIC_REFRESH_INTERVAL_MS;
    if (hasPattern(this.options.topics) && interval > 0) {
      this.refreshTimer = setInterval(() => this.refreshInBackground("interval", this.options.periodicTopicListing), interval);
      // A pending refresh must not keep the process alive on its own.
      this.refreshTimer.unref();
    }
    if (this.work && this.options.readOnlyWithWork) {
      this.scheduleWorkPoll(this.options.readOnlyWithWork.pollIntervalMs);
      const lingerMs = this.options.readOnlyWithWork.lingerMs ?? 0;
      if (lingerMs > 0) {
        // A lingering partition is let go between lingerMs and 1.25 × lingerMs after it caught up.
        this.lingerTimer = setInterval(() => this.expireLingering(), Math.max(10, lingerMs / 4));
        this.lingerTimer.unref();
      }
    }
  }

  /** The next work-gate poll, after the interval asked for now; then the one after it. */
  private scheduleWorkPoll(every: number | (() => number)): void {
    const timer = setTimeout(() => {
      void this.pollWork().finally(() => {
        // Not after a disconnect, which forgets the timer.
        if (this.workTimer === timer) this.scheduleWorkPoll(every);
      });
    }, typeof every === "function" ? every() : every);
    this.workTimer = timer;
    timer.unref();
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    const inner = this.inner;
    if (!inner || this.state !== "running") {
      // kafkajs would drop the commit silently while it restarts; say so instead.
      throw new KafkaError(`cannot commit: consumer is ${this.state}`, { retriable: true, code: "NOT_RUNNING" });
    }
    try {
      await inner.commitOffsets(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })));
    } catch (error) {
      throw toKafkaError(error, "commit offsets");
    }
  }

  pause(selection: TopicPartitions[]): void {
    this.paused.pause(selection);
    const inner = this.liveInner();
    if (!inner) return;
    this.onLiveGroup(() => {
      for (const { topic, partitions } of selection) {
        if (this.work) this.applyEffective(inner, topic);
        else if (partitions === undefined) inner.pause([{ topic }]);
        // kafkajs un-pauses the rest of a wholly paused topic when one partition is paused again.
        else if (this.paused.stateOf(topic).all) this.applyPauses(inner, topic, true);
        else inner.pause([{ topic, partitions }]);
      }
    });
  }

  resume(selection: TopicPartitions[]): void {
    this.paused.resume(selection);
    const inner = this.liveInner();
    if (!inner) return;
    this.onLiveGroup(() => {
      if (!this.work) {
        inner.resume(selection.map(({ topic, partitions }) => (partitions === undefined ? { topic } : { topic, partitions })));
        return;
      }
      for (const topic of new Set(selection.map(({ topic }) => topic))) this.applyEffective(inner, topic);
    });
  }

  isPaused(topic: string, partition: number): boolean {
    return this.paused.isPaused(topic, partition);
  }

  seek(position: TopicPartitionOffset): void {
    this.pendingSeeks.set(`${position.partition}:${position.topic}`, { ...position });
    const workChanges = this.seekWork(position);
    const inner = this.liveInner();
    if (inner)
      this.onLiveGroup(() => {
        this.applySeeks(inner);
        if (workChanges) this.applyWorkChanges(inner, workChanges);
      });
  }

  pauseAt(position: TopicPartitionOffset): void {
    const selection = [{ topic: position.topic, partitions: [position.partition] }];
    this.paused.pause(selection);
    this.pendingSeeks.set(`${position.partition}:${position.topic}`, { ...position });
    this.seekWork(position);
    const inner = this.liveInner();
    if (!inner) return;
    this.onLiveGroup(() => {
      this.applyPauses(inner, position.topic, true);
      this.applySeeks(inner);
    });
  }

  /** The next read of a partition moves to `position`: the work gate's position with it. */
  private seekWork(position: TopicPartitionOffset): WorkChanges | undefined {
    if (!this.work) return undefined;
    this.work.setPosition(position.topic, position.partition, position.offset);
    return this.work.changesOf(position.topic, position.partition);
  }

  /** Applies the pending seeks of assigned partitions; each is forgotten once kafkajs took it. */
  private applySeeks(inner: ClientConsumer): void {
    const assigned = new Set(this.assigned.flatMap(({ topic, partitions }) => (partitions ?? []).map((partition) => `${partition}:${topic}`)));
    for (const [key, { topic, partition, offset }] of this.pendingSeeks) {
      // A partition this member no longer owns: its new owner reads from the last commit.
      if (!assigned.has(key)) {
        this.pendingSeeks.delete(key);
        continue;
      }
      try {
        inner.seek({ topic, partition, offset });
      } catch (error) {
        throw toKafkaError(error, "seek");
      }
      this.pendingSeeks.delete(key);
    }
  }

  assignment(): TopicPartitions[] {
    return this.assigned.map(({ topic, partitions }) => ({ topic, partitions: [...(partitions ?? [])] }));
  }

  topics(): string[] {
    return [...this.subscribed];
  }

  workPartitions(): { active: number; idle: number; fetching: number } | null {
    if (!this.work) return null;
    const counts = this.work.counts();
    const inner = this.liveInner();
    let fetching = 0;
    if (inner) {
      const paused = new Set(inner.paused().flatMap(({ topic, partitions }) => partitions.map((partition) => `${partition}:${topic}`)));
      for (const [topic, partitions] of this.assignedByTopic) for (const partition of partitions) if (!paused.has(`${partition}:${topic}`)) fetching++;
    }
    return { ...counts, fetching };
  }

  checkForWork(topics: readonly string[]): void {
    if (!this.work) return;
    for (const topic of topics) if (this.assignedByTopic.has(topic)) this.workToCheck.add(topic);
    void this.checkSignalledWork();
  }

  /** One targeted end-offset read per batch of signalled topics; more signals wait for the next. */
  private async checkSignalledWork(): Promise<void> {
    const work = this.work;
    const offsets = this.deps.offsets;
    if (!work || !offsets || this.workChecking) return;
    this.workChecking = true;
    try {
      while (this.workToCheck.size > 0) {
        // A partition being fetched already reads what was written; only idle ones need a look.
        const refs = [...this.workToCheck].flatMap((topic) => (this.assignedByTopic.get(topic) ?? []).map((partition) => ({ topic, partition }))).filter(({ topic, partition }) => !work.isActive(topic, partition));
        this.workToCheck.clear();
        const inner = this.liveInner();
        if (refs.length === 0 || !inner) continue;
        const join = this.joins;
        const ends = await offsets.fetchPartitionOffsets(selectionOf(refs), "latest");
        if (join !== this.joins) continue;
        for (const { topic, partition, offset } of ends) work.raiseEnd(topic, partition, offset);
        const changes: WorkChanges = { resume: [], pause: [] };
        for (const { topic, partition } of refs) changes.resume.push(...work.changesOf(topic, partition).resume);
        if (changes.resume.length > 0) this.onLiveGroup(() => this.applyWorkChanges(inner, changes));
      }
    } catch (error) {
      // The next full poll finds the work anyway.
      this.logger.debug({ err: error }, "work gate could not check signalled topics; the next poll will");
    } finally {
      this.workChecking = false;
    }
  }

  refreshSubscription(): Promise<TopicSetChange> {
    return this.refreshWith(() => this.deps.listTopics());
  }

  subscribeAlso(topics: readonly string[]): Promise<TopicSetChange> {
    for (const topic of topics) this.topicsToAdd.add(topic);
    // Topics asked for while a re-subscription waits its turn join it: each one rebuilds the
    // client consumer and rejoins the group (seconds at hundreds of topics), so one per new
    // endpoint queued up behind each other when endpoints were added one after the other.
    if (this.pendingAddition) return this.pendingAddition;
    const addition: Promise<TopicSetChange> = this.refreshWith(async () => {
      if (this.pendingAddition === addition) this.pendingAddition = undefined; // later calls queue the next one
      const adding = [...this.topicsToAdd];
      this.topicsToAdd.clear();
      return [...this.subscribed, ...adding];
    }).finally(() => {
      if (this.pendingAddition === addition) this.pendingAddition = undefined;
    });
    this.pendingAddition = addition;
    return addition;
  }

  private refreshWith(listTopics: () => Promise<string[]>): Promise<TopicSetChange> {
    return this.lifecycle.run(async () => {
      const unchanged: TopicSetChange = { added: [], removed: [] };
      if (!this.runOptions || this.state === "stopped" || !hasPattern(this.options.topics)) return unchanged;
      const topics = await this.resolve(listTopics);
      const change = diffTopics(this.subscribed, topics);
      // Also start when an earlier refresh failed to (nothing runs although topics match).
      const stalled = this.inner === undefined && topics.length > 0;
      if (change.added.length === 0 && change.removed.length === 0 && !stalled) return unchanged;
      for (const topic of change.added) {
        if (!this.startAtEarliest.has(topic)) this.startAtEarliest.set(topic, true);
      }
      for (const topic of change.removed) this.startAtEarliest.delete(topic);
      this.logger.info(
        { added: change.added, removed: change.removed, topicCount: topics.length },
        "kafka consumer subscription changed, re-subscribing",
      );
      await this.stopInner();
      this.subscribed = topics;
      this.deps.metrics.subscribedTopics(this.groupId, topics.length);
      this.deps.metrics.event("consumer", "subscription_changed");
      try {
        await this.startInner();
      } catch (error) {
        // The next refresh tries again (a topic may have vanished between listing and subscribing).
        this.state = this.refreshTimer ? "restarting" : "crashed";
        throw error;
      }
      this.listeners.emit("subscriptionChanged", { groupId: this.groupId, topics: [...topics], ...change });
      return change;
    });
  }

  status(): ConsumerStatus {
    return this.state;
  }

  on<E extends keyof ConsumerEvents>(event: E, listener: Listener<ConsumerEvents[E]>): () => void {
    return this.listeners.on(event, listener);
  }

  disconnect(): Promise<void> {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
    if (this.workTimer) clearTimeout(this.workTimer);
    this.workTimer = undefined;
    if (this.lingerTimer) clearInterval(this.lingerTimer);
    this.lingerTimer = undefined;
    return this.lifecycle.run(async () => {
      if (this.state === "stopped") return;
      await this.stopInner();
      this.state = "stopped";
      this.deps.metrics.subscribedTopics(this.groupId, 0);
    });
  }

  private async resolve(listTopics = () => this.deps.listTopics()): Promise<string[]> {
    const filter = this.options.topicFilter;
    return resolveTopics(this.options.topics, hasPattern(this.options.topics) ? await listTopics() : [], filter ? (topic) => filter(topic) : undefined);
  }

  private liveInner(): ClientConsumer | undefined {
    // kafkajs throws on pause/seek while it has no consumer group (before run, while restarting).
    return this.state === "running" ? this.inner : undefined;
  }

  /**
   * Pause state goes to kafkajs only while it has a consumer group; a crash can drop the group
   * just before `status()` says so. The adapter's record is re-applied at the next join anyway.
   */
  private onLiveGroup(apply: () => void): void {
    try {
      apply();
    } catch (error) {
      this.logger.debug({ err: error }, "pause state not applied now; it will be at the next group join");
    }
  }

  private refreshInBackground(reason: string, listTopics = () => this.deps.listTopics()): void {
    this.refreshWith(listTopics).catch((error: unknown) =>
      this.logger.warn({ err: error, reason }, "kafka consumer topic refresh failed; will try again"),
    );
  }

  private async startInner(): Promise<void> {
    const runOptions = this.runOptions;
    if (!runOptions) return;
    if (this.subscribed.length === 0) {
      this.state = "waiting-for-topics";
      this.logger.info({ topics: this.options.topics.map(String) }, "no topic matches the subscription yet");
      return;
    }
    this.state = "starting";
    const inner = this.deps.createClientConsumer(this.clientConfig());
    this.inner = inner;
    this.detachInner = this.attach(inner);
    try {
      await inner.connect();
      for (const fromBeginning of [true, false]) {
        const topics = this.subscribed.filter((topic) => (this.startAtEarliest.get(topic) ?? false) === fromBeginning);
        if (topics.length > 0) await inner.subscribe({ topics, fromBeginning });
      }
      await inner.run(this.clientRunConfig(runOptions));
    } catch (error) {
      await this.stopInner();
      throw toKafkaError(error, "start consumer");
    }
  }

  private async stopInner(): Promise<void> {
    const inner = this.inner;
    this.inner = undefined;
    this.assigned = [];
    this.assignedByTopic = new Map();
    if (!inner) return;
    try {
      await inner.disconnect();
    } catch (error) {
      this.logger.warn({ err: error }, "kafka consumer did not disconnect cleanly");
    } finally {
      this.detachInner?.();
      this.detachInner = undefined;
    }
  }

  private clientConfig(): ConsumerConfig {
    const o = this.options;
    const config: ConsumerConfig = {
      groupId: o.groupId,
      allowAutoTopicCreation: false,
      readUncommitted: o.readUncommitted ?? false,
      retry: {
        ...toClientRetry(o.retry),
        restartOnFailure: async (error: Error) => {
          if (!o.restartOnCrash) return true;
          return o.restartOnCrash(toKafkaError(error, "consume"));
        },
      },
    };
    if (o.sessionTimeoutMs !== undefined) config.sessionTimeout = o.sessionTimeoutMs;
    if (o.rebalanceTimeoutMs !== undefined) config.rebalanceTimeout = o.rebalanceTimeoutMs;
    if (o.heartbeatIntervalMs !== undefined) config.heartbeatInterval = o.heartbeatIntervalMs;
    else if (o.sessionTimeoutMs !== undefined) config.heartbeatInterval = Math.floor(o.sessionTimeoutMs / 10);
    if (o.maxBytesPerPartition !== undefined) config.maxBytesPerPartition = o.maxBytesPerPartition;
    config.maxWaitTimeInMs = o.maxWaitTimeMs ?? DEFAULT_MAX_WAIT_TIME_MS;
    if (o.metadataMaxAgeMs !== undefined) config.metadataMaxAge = o.metadataMaxAgeMs;
    return config;
  }

  private clientRunConfig(options: RunOptions): Parameters<ClientConsumer["run"]>[0] {
    const config: NonNullable<Parameters<ClientConsumer["run"]>[0]> = {
      autoCommit: options.autoCommit ?? true,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
      eachBatchAutoResolve: options.autoResolveBatch ?? true,
    };
    if (options.autoCommitIntervalMs !== undefined) config.autoCommitInterval = options.autoCommitIntervalMs;
    const { eachMessage, eachBatch } = options;
    if (eachMessage) {
      config.eachMessage = async (payload: EachMessagePayload) => {
        const message = fromClientMessage(payload.topic, payload.partition, payload.message);
        const stopBeating = this.heartbeatWhile(payload.heartbeat);
        try {
          await eachMessage(message, {
            heartbeat: () => payload.heartbeat(),
            pause: () => this.pausePartition(payload.topic, payload.partition),
          });
        } catch (error) {
          await this.handleHandlerError(error, { topic: message.topic, partition: message.partition, offset: message.offset });
        } finally {
          stopBeating();
        }
      };
    }
    if (eachBatch) {
      config.eachBatch = async (payload: EachBatchPayload) => {
        const { topic, partition, highWatermark } = payload.batch;
        const messages = payload.batch.messages.map((message) => fromClientMessage(topic, partition, message));
        const stopBeating = this.heartbeatWhile(payload.heartbeat);
        try {
          await eachBatch(
            { topic, partition, highWatermark, messages },
            {
              heartbeat: () => payload.heartbeat(),
              pause: () => this.pausePartition(topic, partition),
              resolveOffset: (offset) => payload.resolveOffset(offset),
              isRunning: () => payload.isRunning(),
              isStale: () => payload.isStale(),
            },
          );
        } catch (error) {
          await this.handleHandlerError(error, { topic, partition, offset: messages[0]?.offset ?? payload.batch.firstOffset() ?? "-1" });
        } finally {
          stopBeating();
        }
      };
    }
    return config;
  }

  /**
   * Heartbeats while a handler runs: kafkajs beats only between batches, so a long batch (many
   * partitions handled at once, a slow handler) would get the member evicted and the group
   * rebalanced. kafkajs itself sends at most one beat per heartbeat interval. A failed beat (a
   * rebalance in progress) is left to kafkajs's own beat after the batch, which rejoins.
   */
  private heartbeatWhile(heartbeat: () => Promise<void>): () => void {
    const intervalMs = this.clientConfig().heartbeatInterval ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    const timer = setInterval(() => {
      heartbeat().catch((error: unknown) => this.logger.debug({ err: error }, "heartbeat during a handler failed"));
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /**
   * Work gate: sets kafkajs's pause state of every assigned partition of `topic` to what the
   * caller's pauses and the work gate together say (paused if either holds it). Per partition,
   * never whole topics: kafkajs un-pauses a wholly paused topic's other partitions when one is
   * paused again.
   */
  private applyEffective(inner: ClientConsumer, topic: string): void {
    const work = this.work;
    if (!work) return;
    const partitions = this.assignedByTopic.get(topic) ?? [];
    const held = partitions.filter((partition) => this.paused.isPaused(topic, partition) || !work.isActive(topic, partition));
    inner.resume([{ topic }]);
    if (held.length > 0) inner.pause([{ topic, partitions: held }]);
  }

  private applyWorkChanges(inner: ClientConsumer, changes: WorkChanges): void {
    const topics = new Set([...changes.resume, ...changes.pause].map(({ topic }) => topic));
    for (const topic of topics) this.applyEffective(inner, topic);
    if (this.work && topics.size > 0) this.deps.metrics.workPartitions(this.groupId, this.work.counts());
  }

  private expireLingering(): void {
    const work = this.work;
    const inner = this.liveInner();
    if (!work || !inner) return;
    const changes = work.expire();
    if (changes.pause.length > 0) this.onLiveGroup(() => this.applyWorkChanges(inner, changes));
  }

  /**
   * One work-gate poll: committed offsets of partitions whose position is unknown (after a
   * join), then the end offsets of every assigned partition, one request per broker each.
   */
  private async pollWork(): Promise<void> {
    const work = this.work;
    const offsets = this.deps.offsets;
    if (!work || !offsets || this.workPolling || !this.liveInner()) return;
    this.workPolling = true;
    const join = this.joins;
    try {
      const unknown = work.withoutPosition();
      if (unknown.length > 0) {
        const committed = await offsets.fetchCommittedOffsets(this.groupId, selectionOf(unknown));
        const inherited = await this.inheritedOffsets(committed.filter(({ offset }) => offset === null));
        const uncommitted = committed.filter(({ topic, partition, offset }) => offset === null && !inherited.has(`${partition}:${topic}`));
        const starts = await Promise.all(
          (["earliest", "latest"] as const).map((which) => {
            const fromStart = which === "earliest";
            const refs = uncommitted.filter(({ topic }) => (this.startAtEarliest.get(topic) ?? false) === fromStart);
            return offsets.fetchPartitionOffsets(selectionOf(refs), which);
          }),
        );
        if (join !== this.joins) return;
        for (const { topic, partition, offset } of committed) if (offset !== null) work.initPosition(topic, partition, offset);
        for (const position of inherited.values()) this.seek(position);
        for (const { topic, partition, offset } of starts.flat()) work.initPosition(topic, partition, offset);
      }
      const ends = await offsets.fetchPartitionOffsets(selectionOf(work.assigned()), "latest");
      if (join !== this.joins) return;
      for (const { topic, partition, offset } of ends) work.setEnd(topic, partition, offset);
      const inner = this.liveInner();
      if (inner) this.onLiveGroup(() => this.applyWorkChanges(inner, work.changes()));
      this.deps.metrics.workPartitions(this.groupId, work.counts());
    } catch (error) {
      // Every poll interval while the broker is away: say it once a minute.
      const now = Date.now();
      if (now - this.lastWorkPollFailure > 60_000) this.logger.warn({ err: error }, "work gate could not poll offsets; partitions without known work stay paused");
      this.lastWorkPollFailure = now;
    } finally {
      this.workPolling = false;
    }
  }

  /**
   * Offsets another group committed for partitions this group never did (`inheritOffsets`), by
   * `partition:topic`. Applied as seeks: kafkajs has already chosen its start (earliest/latest)
   * for them, and they stay paused by the work gate until their position is known.
   */
  private async inheritedOffsets(uncommitted: readonly PartitionRef[]): Promise<Map<string, TopicPartitionOffset>> {
    const inherit = this.options.readOnlyWithWork?.inheritOffsets;
    const found = new Map<string, TopicPartitionOffset>();
    if (!inherit || uncommitted.length === 0) return found;
    for (const { topic, partition, offset } of await inherit(uncommitted.map(({ topic, partition }) => ({ topic, partition })))) {
      if (offset !== null) found.set(`${partition}:${topic}`, { topic, partition, offset });
    }
    if (found.size > 0) this.logger.info({ partitions: found.size }, "starting partitions this group never committed at offsets another group committed");
    return found;
  }

  private pausePartition(topic: string, partition: number): () => void {
    this.pause([{ topic, partitions: [partition] }]);
    return () => this.resume([{ topic, partitions: [partition] }]);
  }

  private async handleHandlerError(error: unknown, context: HandlerErrorContext): Promise<void> {
    const policy = this.runOptions?.onHandlerError ?? defaultHandlerErrorPolicy;
    let decision: HandlerErrorDecision;
    try {
      decision = await policy(error, context);
    } catch (policyError) {
      this.logger.error({ err: policyError, ...context }, "handler error policy failed; rethrowing");
      decision = "rethrow";
    }
    this.deps.metrics.handlerError(this.groupId, decision);
    if (decision === "skip") {
      this.logger.warn({ err: error, ...context }, "kafka handler failed; skipping as the policy decided");
      return;
    }
    this.logger.error({ err: error, ...context }, "kafka handler failed; kafkajs will retry");
    throw errorForClient(error);
  }

  /**
   * Applies this adapter's record of pauses for one topic onto kafkajs's state; `clearFirst`
   * when kafkajs's state for the topic may disagree (otherwise it is fresh or already equal).
   */
  private applyPauses(inner: ClientConsumer, topic: string, clearFirst: boolean): void {
    if (this.work) {
      this.applyEffective(inner, topic);
      return;
    }
    const state = this.paused.stateOf(topic);
    if (clearFirst) inner.resume([{ topic }]);
    if (state.all) {
      inner.pause([{ topic }]);
      if (state.except.length > 0) inner.resume([{ topic, partitions: state.except }]);
    } else if (state.partitions.length > 0) {
      inner.pause([{ topic, partitions: state.partitions }]);
    }
  }

  /**
   * A group join with the work gate: every assigned partition is paused (kafkajs fetches right
   * after this event) until a poll shows it has records; seeks asked for while no group was live
   * set the positions they move to. The first poll starts at once.
   */
  private joinWork(inner: ClientConsumer): void {
    const work = this.work;
    if (!work) return;
    this.joins++;
    work.assign(this.assigned.flatMap(({ topic, partitions }) => (partitions ?? []).map((partition) => ({ topic, partition }))));
    for (const { topic, partition, offset } of this.pendingSeeks.values()) work.setPosition(topic, partition, offset);
    this.onLiveGroup(() => {
      if (this.assigned.length > 0) inner.pause(this.assigned.map(({ topic, partitions }) => ({ topic, partitions: partitions ?? [] })));
      this.applySeeks(inner);
    });
    this.deps.metrics.workPartitions(this.groupId, work.counts());
    // After the state is "running" (set by the caller of this event handler).
    queueMicrotask(() => void this.pollWork());
  }

  private attach(inner: ClientConsumer): () => void {
    const { events } = inner;
    const metrics = this.deps.metrics;
    const removers = [
      instrumentNetwork(inner as unknown as InstrumentationSource, "consumer", metrics, this.logger),
      inner.on(events.GROUP_JOIN, ({ payload }) => {
        metrics.event("consumer", "group_join");
        this.state = "running";
        this.assigned = Object.entries(payload.memberAssignment)
          .map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }))
          .sort((a, b) => a.topic.localeCompare(b.topic));
        this.assignedByTopic = new Map(this.assigned.map(({ topic, partitions }) => [topic, partitions ?? []]));
        if (this.work) this.joinWork(inner);
        // A restart after a crash builds a new kafkajs consumer group that knows no pauses or seeks.
        else
          this.onLiveGroup(() => {
            for (const state of this.paused.all()) this.applyPauses(inner, state.topic, false);
            this.applySeeks(inner);
          });
        this.listeners.emit("groupJoin", {
          groupId: payload.groupId,
          memberId: payload.memberId,
          leaderId: payload.leaderId,
          isLeader: payload.isLeader,
          assignment: this.assignment(),
          durationMs: payload.duration,
        });
      }),
      inner.on(events.REBALANCING, ({ payload }) => {
        metrics.event("consumer", "rebalancing");
        this.listeners.emit("rebalancing", { groupId: payload.groupId, memberId: payload.memberId });
      }),
      inner.on(events.CRASH, ({ payload }) => {
        metrics.event("consumer", "crash");
        // Every crash counts as `crash`; those kafkajs restarts from also count as `crash_restart`.
        if (payload.restart) metrics.event("consumer", "crash_restart");
        if (this.inner !== inner) return; // an old consumer being replaced
        this.state = payload.restart ? "restarting" : "crashed";
        this.assigned = [];
        this.listeners.emit("crash", {
          groupId: payload.groupId,
          error: toKafkaError(payload.error, "consume"),
          restart: payload.restart,
        });
        // A vanished topic crashes kafkajs; matching the patterns again drops it.
        if (hasPattern(this.options.topics)) this.refreshInBackground("crash");
      }),
      inner.on(events.REQUEST_TIMEOUT, ({ payload }) => {
        this.listeners.emit("requestTimeout", {
          broker: payload.broker,
          api: payload.apiName,
          pendingDurationMs: payload.pendingDuration,
        });
      }),
      inner.on(events.START_BATCH_PROCESS, ({ payload }) => {
        // The offsets fetched, control records included: how far this partition has been read.
        const work = this.work;
        if (!work || payload.firstOffset === null || payload.lastOffset === null) return;
        work.fetched(payload.topic, payload.partition, payload.firstOffset, payload.lastOffset);
        const changes = work.changesOf(payload.topic, payload.partition);
        if (changes.pause.length + changes.resume.length > 0) this.onLiveGroup(() => this.applyWorkChanges(inner, changes));
      }),
      inner.on(events.STOP, () => metrics.event("consumer", "stop")),
      inner.on(events.COMMIT_OFFSETS, () => metrics.event("consumer", "commit_offsets")),
      inner.on(events.END_BATCH_PROCESS, ({ payload }) => metrics.batchDuration(this.groupId, payload.duration / 1000)),
      inner.on(events.RECEIVED_UNSUBSCRIBED_TOPICS, ({ payload }) => {
        metrics.event("consumer", "received_unsubscribed_topics");
        // Another member of the group subscribes to more topics (it saw a new topic first).
        this.logger.info({ topicsNotSubscribed: payload.topicsNotSubscribed }, "group assigned topics this member does not subscribe to");
        if (hasPattern(this.options.topics)) this.refreshInBackground("unsubscribed-topics");
      }),
    ];
    return () => {
      for (const remove of removers) remove();
    };
  }
}

export function createKafkaConsumer(options: ConsumerOptions, deps: ConsumerDependencies): KafkaConsumer {
  return new PatternAwareConsumer(options, deps);
}

function selectionOf(refs: readonly PartitionRef[]): PartitionSelection[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of refs) {
    const partitions = byTopic.get(topic);
    if (partitions) partitions.push(partition);
    else byTopic.set(topic, [partition]);
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}
