/**
 * Where a receiver remembers the event ids it has processed. Deliveries are at-least-once: the
 * same event id can arrive again after a retry, a crash of the dispatcher or a replay. Use a
 * shared store (Redis SET NX with a TTL, a unique index in your database) when several
 * processes receive; the in-memory default only covers one process.
 */
export interface DedupeStore {
  /** True when `eventId` was remembered before. */
  has(eventId: string): Promise<boolean> | boolean;
  /** Remembers `eventId`; called only after the event was processed successfully. */
  remember(eventId: string): Promise<void> | void;
}

/**
 * Remembers the most recent `maxEntries` event ids in memory; the oldest is forgotten first,
 * so memory stays bounded however long the process runs.
 */
export class MemoryDedupeStore implements DedupeStore {
  private readonly ids = new Set<string>();

  constructor(readonly maxEntries = 10_000) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError("maxEntries must be a positive integer");
  }

  has(eventId: string): boolean {
    return this.ids.has(eventId);
  }

  remember(eventId: string): void {
    this.ids.delete(eventId);
    this.ids.add(eventId);
    // A Set iterates in insertion order: its first element is the oldest.
    while (this.ids.size > this.maxEntries) this.ids.delete(this.ids.values().next().value!);
  }

  get size(): number {
    return this.ids.size;
  }
}
