/**
 * Endpoint ids whose deletion a view has read, each remembered for a while and then forgotten,
 * so a long-running process that sees endpoints come and go does not grow without bound.
 *
 * "Deleted" only has to outlive the window in which a delivery for the endpoint can still
 * arrive without its configuration having been seen (a sender's grace for unknown endpoints);
 * after that an unknown endpoint is treated as unknown, which holds, never drops.
 */
export class DeletedEndpoints {
  /** Insertion-ordered: the first entry is the oldest. Values are when it was deleted (epoch ms). */
  readonly #deletedAt = new Map<string, number>();

  constructor(
    private readonly options: {
      /** How long a deletion is remembered, in milliseconds. */
      retentionMs: number;
      /** Most deletions remembered at once; the oldest go first. */
      maxEntries: number;
      /** Epoch milliseconds. */
      now: () => number;
    },
  ) {}

  add(endpointId: string): void {
    this.#deletedAt.delete(endpointId);
    this.#deletedAt.set(endpointId, this.options.now());
    this.#prune();
  }

  delete(endpointId: string): void {
    this.#deletedAt.delete(endpointId);
  }

  has(endpointId: string): boolean {
    this.#prune();
    return this.#deletedAt.has(endpointId);
  }

  get size(): number {
    this.#prune();
    return this.#deletedAt.size;
  }

  #prune(): void {
    const oldestKept = this.options.now() - this.options.retentionMs;
    for (const [endpointId, deletedAt] of this.#deletedAt) {
      if (deletedAt > oldestKept && this.#deletedAt.size <= this.options.maxEntries) break;
      this.#deletedAt.delete(endpointId);
    }
  }
}
