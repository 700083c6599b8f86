/**
 * Which assigned partitions a consumer should fetch: those with records it has not read yet.
 *
 * kafkajs names every unpaused partition in every fetch (it has no incremental fetch sessions),
 * so a consumer of thousands of mostly idle topics spends its time and event loop on fetches that
 * return nothing. The work gate keeps a partition paused unless its end offset (polled) is beyond
 * the consumer's position (known from the committed offset, the batches fetched and the seeks).
 *
 * Pure state: the consumer adapter feeds it positions and end offsets and applies the changes it
 * returns. Anything unknown counts as "no work" until it is known; a position it cannot follow
 * contiguously (a gap: retention, compaction) is not trusted to be caught up, so the mistakes it
 * can make are fetching a partition for nothing, never leaving records unread.
 *
 * A partition that caught up may linger: stay fetched for `lingerMs` after its last record, at
 * most `maxLingering` of them, oldest let go first. Pausing it at once makes its next record
 * wait for a signal, an end-offset read and the consumer's next fetch cycle; an endpoint that
 * receives a steady stream would pay that on every record. Lingering keeps such partitions in
 * the fetch, where the broker answers the fetch in progress as soon as a record arrives, while
 * the cap keeps a burst over thousands of endpoints from putting them all back in every fetch.
 */
export interface PartitionRef {
  topic: string;
  partition: number;
}

interface PartitionWork {
  topic: string;
  partition: number;
  /** Next offset the consumer reads; undefined until known. */
  position: bigint | undefined;
  /** Log end offset (last stable offset, read committed) at the last poll; undefined until polled. */
  end: bigint | undefined;
  /** Whether the partition is currently let through (the consumer fetches it). */
  active: boolean;
}

export interface WorkGateOptions {
  /** How long a caught-up partition stays fetched after its last record, in milliseconds (0: none). */
  lingerMs: number;
  /** Caught-up partitions kept fetched at most; beyond it the one that caught up first is paused. */
  maxLingering: number;
  /** Milliseconds, monotonic. */
  now: () => number;
}

const NO_LINGER: WorkGateOptions = { lingerMs: 0, maxLingering: 0, now: () => 0 };

export interface WorkChanges {
  /** Partitions that got work: fetch them (unless something else holds them). */
  resume: PartitionRef[];
  /** Partitions that caught up: stop fetching them. */
  pause: PartitionRef[];
}

/** A position read from a batch, a commit or a seek, as Kafka's decimal string or a bigint. */
type Offset = string | bigint;

export function hasWork(position: bigint | undefined, end: bigint | undefined): boolean {
  return position !== undefined && end !== undefined && end > position;
}

export class WorkGate {
  readonly #partitions = new Map<string, PartitionWork>();
  /** Active partitions without work, by key, in the order they caught up: when each did. */
  readonly #lingering = new Map<string, number>();
  readonly #options: WorkGateOptions;

  constructor(options: WorkGateOptions = NO_LINGER) {
    this.#options = options;
  }

  /** A new assignment: every partition starts unknown (no work) and inactive. */
  assign(partitions: readonly PartitionRef[]): void {
    this.#partitions.clear();
    this.#lingering.clear();
    for (const { topic, partition } of partitions) {
      this.#partitions.set(keyOf(topic, partition), { topic, partition, position: undefined, end: undefined, active: false });
    }
  }

  assigned(): PartitionRef[] {
    return [...this.#partitions.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  /** Assigned partitions whose position is not known yet. */
  withoutPosition(): PartitionRef[] {
    return [...this.#partitions.values()].filter((work) => work.position === undefined).map(({ topic, partition }) => ({ topic, partition }));
  }

  isActive(topic: string, partition: number): boolean {
    return this.#partitions.get(keyOf(topic, partition))?.active ?? false;
  }

  /**
   * The consumer reads `partition` next at `offset`: the committed offset at a group join, or a
   * seek. A seek always wins over what batches said (it may move back).
   */
  setPosition(topic: string, partition: number, offset: Offset): void {
    const work = this.#partitions.get(keyOf(topic, partition));
    if (work) work.position = BigInt(offset);
  }

  /** A position from the committed offsets, only where none is known yet (a seek is newer). */
  initPosition(topic: string, partition: number, offset: Offset): void {
    const work = this.#partitions.get(keyOf(topic, partition));
    if (work && work.position === undefined) work.position = BigInt(offset);
  }

  /**
   * A fetched batch covered `firstOffset`..`lastOffset` (control records included). The position
   * moves past it only if the batch starts at or before the position: a batch fetched before a
   * seek back, or after a gap, says nothing about what is left to read.
   */
  fetched(topic: string, partition: number, firstOffset: Offset, lastOffset: Offset): void {
    const work = this.#partitions.get(keyOf(topic, partition));
    if (!work || work.position === undefined) return;
    const first = BigInt(firstOffset);
    const next = BigInt(lastOffset) + 1n;
    if (first <= work.position && next > work.position) {
      work.position = next;
      // Records were read: a lingering partition's time starts again when it next catches up.
      this.#lingering.delete(keyOf(topic, partition));
    }
  }

  /** End offsets from a poll. */
  setEnd(topic: string, partition: number, offset: Offset): void {
    const work = this.#partitions.get(keyOf(topic, partition));
    if (work) work.end = BigInt(offset);
  }

  /**
   * An end offset read outside the full poll (a targeted check after a signal): only ever moves
   * the end forward, so a read that raced a newer full poll cannot hide records.
   */
  raiseEnd(topic: string, partition: number, offset: Offset): void {
    const work = this.#partitions.get(keyOf(topic, partition));
    const end = BigInt(offset);
    if (work && (work.end === undefined || end > work.end)) work.end = end;
  }

  /** What changed since the last call: partitions to let through, partitions to stop. */
  changes(): WorkChanges {
    const resume: PartitionRef[] = [];
    const pause: PartitionRef[] = [];
    for (const work of this.#partitions.values()) this.#settle(work, resume, pause);
    return { resume, pause };
  }

  /** Like `changes()` for one partition (after one batch or seek: no need to scan them all). */
  changesOf(topic: string, partition: number): WorkChanges {
    const resume: PartitionRef[] = [];
    const pause: PartitionRef[] = [];
    const work = this.#partitions.get(keyOf(topic, partition));
    if (work) this.#settle(work, resume, pause);
    return { resume, pause };
  }

  /** Lingering partitions whose time is up: stop fetching them. */
  expire(): WorkChanges {
    const pause: PartitionRef[] = [];
    const now = this.#options.now();
    for (const [key, caughtUpAt] of this.#lingering) {
      if (now - caughtUpAt < this.#options.lingerMs) break; // in the order they caught up
      this.#stopLingering(key, pause);
    }
    return { resume: [], pause };
  }

  /** Active partitions (lingering ones included), idle ones, and how many of the active linger. */
  counts(): { active: number; idle: number; lingering: number } {
    let active = 0;
    for (const work of this.#partitions.values()) if (work.active) active++;
    return { active, idle: this.#partitions.size - active, lingering: this.#lingering.size };
  }

  #settle(work: PartitionWork, resume: PartitionRef[], pause: PartitionRef[]): void {
    const key = keyOf(work.topic, work.partition);
    const want = hasWork(work.position, work.end);
    if (want) this.#lingering.delete(key);
    if (want === work.active) return;
    if (want) {
      work.active = true;
      resume.push({ topic: work.topic, partition: work.partition });
      return;
    }
    // Caught up: linger, unless it already does (its time runs from when it last read records).
    if (this.#options.lingerMs > 0 && this.#options.maxLingering > 0) {
      if (this.#lingering.has(key)) return;
      this.#lingering.set(key, this.#options.now());
      if (this.#lingering.size > this.#options.maxLingering) this.#stopLingering(this.#lingering.keys().next().value as string, pause);
      return;
    }
    work.active = false;
    pause.push({ topic: work.topic, partition: work.partition });
  }

  #stopLingering(key: string, pause: PartitionRef[]): void {
    this.#lingering.delete(key);
    const work = this.#partitions.get(key);
    if (!work || !work.active) return;
    work.active = false;
    pause.push({ topic: work.topic, partition: work.partition });
  }
}

function keyOf(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}
