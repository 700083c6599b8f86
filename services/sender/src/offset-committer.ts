import type { TopicPartitionOffset } from "@novatrade/kafka";
import type { OffsetTracker } from "./offset-tracker.js";

/**
 * Commits a tracker's committable offsets, one commit at a time. Two commits in flight at once
 * could be answered out of order and move a committed offset backwards (a re-read of work already
 * done after a restart); here a commit asked for while one runs waits for it and then commits
 * what is committable by then.
 */
export class OffsetCommitter {
  #last: Promise<void> = Promise.resolve();

  constructor(
    private readonly tracker: OffsetTracker,
    private readonly commit: (offsets: TopicPartitionOffset[]) => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Resolves once this commit (and every one asked for before it) has ended. */
  commitNow(): Promise<void> {
    this.#last = this.#last.then(async () => {
      const offsets = this.tracker.committable();
      if (offsets.length === 0) return;
      try {
        await this.commit(offsets);
        this.tracker.markCommitted(offsets);
      } catch (error) {
        // A rebalance took the partition away: the new owner reads from the last commit.
        this.onError(error);
      }
    });
    return this.#last;
  }
}
