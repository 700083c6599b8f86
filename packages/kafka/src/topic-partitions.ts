/** Partitions of one topic; `partitions` omitted means every partition of the topic. */
export interface TopicPartitions {
  topic: string;
  partitions?: number[];
}

/** A position in a partition: for a commit, the next offset to read. */
export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  /** 64-bit offset as a decimal string. */
  offset: string;
}

/** How one topic is paused: all partitions but `except`, or only `partitions`. */
export type TopicPauseState =
  | { topic: string; all: true; except: number[] }
  | { topic: string; all: false; partitions: number[] };

interface MutableState {
  all: boolean;
  /** Paused partitions when `all` is false; resumed exceptions when `all` is true. */
  partitions: Set<number>;
}

/**
 * The partitions a consumer was told to pause. kafkajs forgets pauses whenever it rebuilds its
 * consumer group (after a crash-restart, or when the adapter re-subscribes for new topics), so the
 * adapter keeps its own record and applies it again after every group join. It also fixes a
 * kafkajs quirk: there, pausing one partition of a wholly paused topic un-pauses the others.
 */
export class PausedPartitions {
  private readonly states = new Map<string, MutableState>();

  pause(selection: readonly TopicPartitions[]): void {
    for (const { topic, partitions } of selection) {
      if (partitions === undefined) {
        this.states.set(topic, { all: true, partitions: new Set() });
        continue;
      }
      const state = this.states.get(topic) ?? { all: false, partitions: new Set<number>() };
      for (const partition of partitions) {
        if (state.all) state.partitions.delete(partition);
        else state.partitions.add(partition);
      }
      this.store(topic, state);
    }
  }

  resume(selection: readonly TopicPartitions[]): void {
    for (const { topic, partitions } of selection) {
      const state = this.states.get(topic);
      if (!state) continue;
      if (partitions === undefined) {
        this.states.delete(topic);
        continue;
      }
      for (const partition of partitions) {
        if (state.all) state.partitions.add(partition);
        else state.partitions.delete(partition);
      }
      this.store(topic, state);
    }
  }

  isPaused(topic: string, partition: number): boolean {
    const state = this.states.get(topic);
    if (!state) return false;
    return state.all ? !state.partitions.has(partition) : state.partitions.has(partition);
  }

  /** Every topic with a pause on it, in name order. */
  all(): TopicPauseState[] {
    return [...this.states.keys()].sort().map((topic) => this.stateOf(topic));
  }

  stateOf(topic: string): TopicPauseState {
    const state = this.states.get(topic);
    if (!state) return { topic, all: false, partitions: [] };
    const partitions = [...state.partitions].sort((a, b) => a - b);
    return state.all ? { topic, all: true, except: partitions } : { topic, all: false, partitions };
  }

  private store(topic: string, state: MutableState): void {
    if (!state.all && state.partitions.size === 0) this.states.delete(topic);
    else this.states.set(topic, state);
  }
}
