import { KafkaError, toKafkaError } from "./kafka-error.js";

export interface Connectable {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

interface Generation<T> {
  client: T;
  detach: () => void;
  connecting: Promise<void> | undefined;
  closing: Promise<void> | undefined;
  inFlight: number;
  retired: boolean;
}

export interface RenewableClientOptions<T> {
  /** Names the client in errors (`producer`, `admin`). */
  name: string;
  /** Makes a fresh client and attaches its instrumentation; `detach` undoes the latter. */
  create(): { client: T; detach: () => void };
  /** Runs once per fresh client after it connects (e.g. claiming a transactional id). */
  afterConnect?(client: T): Promise<void>;
  /** Failures after which the client is replaced (its state is the problem, not the request). */
  shouldRenew(error: KafkaError): boolean;
  /** Told when a client is replaced. */
  onRenew?(error: KafkaError): void;
}

/**
 * A kafkajs client that connects on first use and is replaced when it gets into a state it
 * cannot leave. The case that needs it: a kafkajs client never forgets a topic it has used, so
 * once such a topic is deleted every metadata refresh fails with UNKNOWN_TOPIC_OR_PARTITION and
 * the client is unusable for every topic. A fresh client knows only the topics it uses next.
 * A replaced client is disconnected once the requests still running on it finish.
 */
export class RenewableClient<T extends Connectable> {
  private current: Generation<T> | undefined;
  private readonly retired = new Set<Generation<T>>();
  private closed = false;

  constructor(private readonly options: RenewableClientOptions<T>) {}

  /** Connects now (to fail fast at start-up); `use` connects anyway. */
  async connect(): Promise<void> {
    await this.connected(this.generation());
  }

  /**
   * Runs `work` on the current client. If it fails in a way that calls for a fresh client, the
   * client is replaced and, with `retryOnRenew`, `work` runs once more on the fresh one. Errors
   * are rethrown as they are: `work` may throw its caller's own errors.
   */
  async use<R>(work: (client: T) => Promise<R>, retryOnRenew = true): Promise<R> {
    for (let attempt = 0; ; attempt += 1) {
      const generation = this.generation();
      generation.inFlight += 1;
      try {
        await this.connected(generation);
        return await work(generation.client);
      } catch (error) {
        const failure = toKafkaError(error, this.options.name);
        // The same failure on a fresh client is about the request itself (a topic that does
        // not exist), and kafkajs leaves a client unharmed by that.
        if (attempt > 0 || !this.options.shouldRenew(failure)) throw error;
        this.renew(generation, failure);
        if (!retryOnRenew) throw error;
      } finally {
        generation.inFlight -= 1;
        if (generation.retired && generation.inFlight === 0) void this.close(generation);
      }
    }
  }

  /** Disconnects every client, current and replaced; the client stays closed. */
  async disconnect(): Promise<void> {
    this.closed = true;
    const generations = [...this.retired, ...(this.current ? [this.current] : [])];
    this.current = undefined;
    const results = await Promise.allSettled(generations.map((generation) => this.close(generation)));
    const failure = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
    if (failure) throw toKafkaError(failure.reason, `disconnect ${this.options.name}`);
  }

  private generation(): Generation<T> {
    if (this.closed) throw new KafkaError(`kafka ${this.options.name} is disconnected`, { code: "DISCONNECTED" });
    if (!this.current) {
      const { client, detach } = this.options.create();
      this.current = { client, detach, connecting: undefined, closing: undefined, inFlight: 0, retired: false };
    }
    return this.current;
  }

  private connected(generation: Generation<T>): Promise<void> {
    if (!generation.connecting) {
      generation.connecting = (async () => {
        await generation.client.connect();
        await this.options.afterConnect?.(generation.client);
      })().catch((error: unknown) => {
        generation.connecting = undefined;
        throw toKafkaError(error, `connect ${this.options.name}`);
      });
    }
    return generation.connecting;
  }

  private renew(generation: Generation<T>, failure: KafkaError): void {
    if (this.current !== generation) return; // a concurrent failure already replaced it
    this.current = undefined;
    generation.retired = true;
    this.retired.add(generation);
    this.options.onRenew?.(failure);
  }

  private close(generation: Generation<T>): Promise<void> {
    if (!generation.closing) {
      generation.closing = (async () => {
        try {
          const pending = generation.connecting;
          // Disconnect even after a failed connect: kafkajs may hold half-open sockets.
          if (pending) {
            await pending.catch(() => undefined);
            await generation.client.disconnect();
          }
        } finally {
          generation.detach();
          this.retired.delete(generation);
        }
      })();
    }
    return generation.closing;
  }
}

/** The failure that poisons a kafkajs client's metadata for good (see RenewableClient). */
export function isStaleTopicFailure(error: KafkaError): boolean {
  return error.code === "UNKNOWN_TOPIC_OR_PARTITION";
}

/**
 * Failures after which an idempotent producer's sequence state no longer matches the broker's
 * (seen after a broker of a cluster is killed and its partitions move): kafkajs keeps its
 * sequence numbers and fails every later send to those partitions. A fresh producer gets a new
 * producer id and starts over.
 */
export function isProducerStateFailure(error: KafkaError): boolean {
  return error.code === "OUT_OF_ORDER_SEQUENCE_NUMBER" || error.code === "UNKNOWN_PRODUCER_ID";
}
