/**
 * A Map that keeps at most `capacity` entries, dropping the oldest inserted first. For values
 * worked out per endpoint on the delivery hot path (an opened secret, a parsed URL): the work is
 * done once per endpoint instead of once per delivery, and memory stays bounded however many
 * endpoints come and go.
 */
export class BoundedCache<V> {
  readonly #entries = new Map<string, V>();

  constructor(private readonly capacity: number) {}

  /** The cached value of `key`, or `make()`'s, remembered. What `make` throws is not cached. */
  getOrMake(key: string, make: () => V): V {
    const cached = this.#entries.get(key);
    if (cached !== undefined) return cached;
    const value = make();
    if (this.#entries.size >= this.capacity) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, value);
    return value;
  }

  get size(): number {
    return this.#entries.size;
  }
}
