/** A listener; it may return a promise, whose rejection is reported rather than lost. */
export type Listener<P> = (payload: P) => void | Promise<void>;

/**
 * A typed listener registry. A listener that throws never breaks the component that emits:
 * the failure goes to `onListenerError` (the owner logs it).
 */
export class Listeners<Events extends object> {
  private readonly byEvent = new Map<keyof Events, Set<Listener<never>>>();

  constructor(private readonly onListenerError: (error: unknown, event: string) => void) {}

  /** Returns a function that removes the listener. */
  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void {
    const set = this.byEvent.get(event) ?? new Set();
    set.add(listener as Listener<never>);
    this.byEvent.set(event, set);
    return () => {
      set.delete(listener as Listener<never>);
    };
  }

  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    for (const listener of [...(this.byEvent.get(event) ?? [])]) {
      try {
        const result = (listener as Listener<Events[E]>)(payload);
        if (result instanceof Promise) result.catch((error: unknown) => this.onListenerError(error, String(event)));
      } catch (error) {
        this.onListenerError(error, String(event));
      }
    }
  }
}
