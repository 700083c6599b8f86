import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP } from "node:net";
import { Agent, errors as undiciErrors } from "undici";
import { isAddressAllowed, NovatradeError } from "@novatrade/domain";
import { BoundedCache } from "./bounded-cache.js";

/** Why an attempt failed, a bounded label set for metrics and the history. */
export type AttemptErrorClass =
  | "http_status"
  | "timeout"
  | "connect"
  | "tls"
  | "dns"
  | "blocked_address"
  | "invalid_url"
  | "other";

export type AttemptResult =
  | { ok: true; statusCode: number; latencyMs: number; responseBody: string }
  | {
      ok: false;
      errorClass: AttemptErrorClass;
      message: string;
      statusCode: number | null;
      latencyMs: number;
      responseBody: string | null;
    };

export interface HttpDeliveryConfig {
  /** Time allowed to open the TCP/TLS connection, in milliseconds. */
  connectTimeoutMs: number;
  /**
   * Time allowed for the attempt itself, from the moment it has a connection slot (connect
   * included) to the last byte kept, in milliseconds. Waiting for a slot is not part of it.
   */
  totalTimeoutMs: number;
  /** Response bytes kept for the history; the rest is not read. */
  maxResponseBytes: number;
  /** Connections per origin of attempts that name no pool of their own (keep-alive pool size). */
  connectionsPerOrigin: number;
  userAgent: string;
  /** Development and tests only: endpoints on loopback / private networks, plain http. */
  allowLoopback: boolean;
  allowPrivateNetworks: boolean;
  allowHttp: boolean;
}

/** The connection went to, or resolved to, an address endpoints may never reach. */
export class BlockedAddressError extends NovatradeError {
  readonly code = "ERR_BLOCKED_ADDRESS";
  constructor(readonly host: string, readonly addresses: string[]) {
    super(`${host} resolves only to addresses endpoints may not use (${addresses.join(", ")})`, { retriable: false });
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A DNS lookup that drops addresses the policy forbids. It runs inside connect, on every new
 * connection, so a name that resolved to a public address at registration and to 169.254.169.254
 * now is still refused (DNS rebinding).
 */
function guardedLookup(policy: { allowLoopback: boolean; allowPrivate: boolean }) {
  return (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const allowed = addresses.filter((entry) => isAddressAllowed(entry.address, policy));
      if (allowed.length === 0) {
        return callback(new BlockedAddressError(hostname, addresses.map((entry) => entry.address)) as never, []);
      }
      if (options.all) return callback(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

function findInCauseChain(error: unknown, test: (e: Record<string, unknown>) => boolean): Record<string, unknown> | null {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current && typeof current === "object"; depth++) {
    const candidate = current as Record<string, unknown>;
    if (test(candidate)) return candidate;
    current = candidate.cause;
  }
  return null;
}

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_)/;

/** Maps whatever undici, net, tls or dns threw to one bounded class. */
export function classifyError(error: unknown): AttemptErrorClass {
  if (findInCauseChain(error, (e) => e instanceof BlockedAddressError || e.code === "ERR_BLOCKED_ADDRESS")) {
    return "blocked_address";
  }
  const coded = findInCauseChain(error, (e) => typeof e.code === "string" || e.name === "TimeoutError" || e.name === "AbortError");
  const code = typeof coded?.code === "string" ? coded.code : "";
  if (coded?.name === "TimeoutError" || coded?.name === "AbortError") return "timeout";
  if (
    code === "UND_ERR_CONNECT_TIMEOUT" ||
    code === "UND_ERR_HEADERS_TIMEOUT" ||
    code === "UND_ERR_BODY_TIMEOUT" ||
    code === "ETIMEDOUT" ||
    code === "ABORT_ERR" ||
    code === "23" // DOMException TIMEOUT_ERR
  ) {
    return "timeout";
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME" || code === "EAI_FAIL") return "dns";
  if (TLS_CODES.test(code)) return "tls";
  if (
    code === "ECONNREFUSED" ||
    code === "ECONNRESET" ||
    code === "EHOSTUNREACH" ||
    code === "ENETUNREACH" ||
    code === "EPIPE" ||
    code === "UND_ERR_SOCKET" ||
    code === "UND_ERR_CLOSED"
  ) {
    return "connect";
  }
  return "other";
}

/** Whose connections an attempt uses. */
export interface PoolOptions {
  /**
   * The pool's owner, normally the endpoint id: endpoints on one host (an integration platform)
   * then never wait for each other's connections.
   */
  poolKey: string;
  /** Its connections, normally the endpoint's maxInFlight. */
  connections: number;
}

export interface HttpDelivery {
  /**
   * One attempt: POST `body` to `url`. Never throws; every failure is an AttemptResult. With
   * `pool`, the attempt uses that pool (e.g. `{ poolKey: endpoint.endpointId, connections:
   * endpoint.maxInFlight }`); without, a pool per origin of `connectionsPerOrigin`.
   */
  post(url: string, headers: Record<string, string>, body: string, pool?: PoolOptions): Promise<AttemptResult>;
  close(): Promise<void>;
}

/** At most `size` holders at once; the others wait their turn, first come first served. */
class Slots {
  #inUse = 0;
  readonly #waiting: Array<() => void> = [];
  constructor(private readonly size: number) {}

  /** Held or waited for by anyone. */
  get busy(): boolean {
    return this.#inUse > 0;
  }

  async acquire(): Promise<void> {
    if (this.#inUse < this.size) {
      this.#inUse++;
      return;
    }
    // The releasing holder hands its slot over: #inUse stays as it is.
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#inUse--;
  }
}

/** A keep-alive pool and the slots that keep its attempts from queueing inside it. */
interface Pool {
  agent: Agent;
  slots: Slots;
  /** performance.now() of the last use, to close pools of endpoints gone quiet. */
  lastUsed: number;
}

/** Endpoint URLs whose parse is kept (one per endpoint). */
const TARGETS_KEPT = 20_000;

/** A URL attempts may post to. */
interface Target {
  origin: string;
  /** Path and query. */
  path: string;
}

/** A URL no attempt may post to, and why. */
interface Refused {
  refused: { errorClass: "invalid_url" | "blocked_address"; message: string };
}

/** Pools unused this long (milliseconds) are closed; their connections idle out sooner anyway. */
const POOL_IDLE_MS = 120_000;

export function createHttpDelivery(config: HttpDeliveryConfig): HttpDelivery {
  const policy = { allowLoopback: config.allowLoopback, allowPrivate: config.allowPrivateNetworks };
  const newPool = (connections: number): Pool => ({
    agent: new Agent({
      connections,
      keepAliveTimeout: 30_000,
      headersTimeout: config.totalTimeoutMs,
      bodyTimeout: config.totalTimeoutMs,
      connect: { timeout: config.connectTimeoutMs, lookup: guardedLookup(policy) as never },
    }),
    slots: new Slots(connections),
    lastUsed: performance.now(),
  });
  const pools = new Map<string, Pool>();
  let lastSweep = performance.now();

  /**
   * The pool for an attempt: the caller's own, or one per origin. An attempt takes one of the
   * pool's slots before it starts, and there are as many slots as connections, so an attempt
   * that has a slot never waits inside the pool: the attempt timeout measures the attempt.
   */
  function poolFor(origin: string, options: PoolOptions | undefined): Pool {
    const key = options ? `endpoint ${options.poolKey} ${options.connections}` : `origin ${origin}`;
    let pool = pools.get(key);
    if (!pool) pools.set(key, (pool = newPool(options ? Math.max(1, options.connections) : config.connectionsPerOrigin)));
    pool.lastUsed = performance.now();
    return pool;
  }

  function sweepIdlePools(): void {
    const now = performance.now();
    if (now - lastSweep < POOL_IDLE_MS / 4) return;
    lastSweep = now;
    for (const [key, pool] of pools) {
      if (pool.slots.busy || now - pool.lastUsed < POOL_IDLE_MS) continue;
      pools.delete(key);
      void pool.agent.close().catch(() => undefined);
    }
  }

  /** Where a URL posts to, or why it may not be posted to: the same every time, so worked out once per URL. */
  function targetOf(url: string): Target | Refused {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return { refused: { errorClass: "invalid_url", message: "endpoint URL does not parse" } };
    }
    if (target.protocol !== "https:" && !(config.allowHttp && target.protocol === "http:")) {
      return { refused: { errorClass: "invalid_url", message: `${target.protocol} endpoints are not allowed` } };
    }
    // A literal IP never goes through DNS, so the connect-time lookup guard would not see it.
    const literalHost = target.hostname.replace(/^\[|\]$/g, "");
    if (isIP(literalHost) && !isAddressAllowed(literalHost, policy)) {
      return { refused: { errorClass: "blocked_address", message: `address ${literalHost} is not allowed` } };
    }
    return { origin: target.origin, path: `${target.pathname}${target.search}` };
  }
  const targets = new BoundedCache<Target | Refused>(TARGETS_KEPT);

  async function post(url: string, headers: Record<string, string>, body: string, options?: PoolOptions): Promise<AttemptResult> {
    let started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const target = targets.getOrMake(url, () => targetOf(url));
    if ("refused" in target) return { ok: false, ...target.refused, statusCode: null, latencyMs: 0, responseBody: null };
    const pool = poolFor(target.origin, options);
    await pool.slots.acquire();
    // The attempt starts now that it has a connection slot; the wait is not the endpoint's time.
    started = performance.now();
    // Not AbortSignal.timeout: its timer outlives the attempt (up to the whole timeout, held
    // through a weak reference and a finalizer), so thousands pile up at high rates. This one is
    // cleared as soon as the attempt ends; the abort is the same TimeoutError.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError")), config.totalTimeoutMs);
    timer.unref();
    try {
      const response = await pool.agent.request({
        origin: target.origin,
        path: target.path,
        method: "POST",
        headers: { ...headers, "content-type": "application/json", "user-agent": config.userAgent },
        body,
        signal: deadline.signal,
      });
      const responseBody = await readBounded(response.body, config.maxResponseBytes);
      const statusCode = response.statusCode;
      if (statusCode >= 200 && statusCode < 300) {
        return { ok: true, statusCode, latencyMs: elapsed(), responseBody };
      }
      // 3xx included: redirects are never followed, a moved endpoint must be re-registered.
      return { ok: false, errorClass: "http_status", message: `HTTP ${statusCode}`, statusCode, latencyMs: elapsed(), responseBody };
    } catch (error) {
      const errorClass = classifyError(error);
      const message = error instanceof undiciErrors.UndiciError || error instanceof Error ? error.message : String(error);
      return { ok: false, errorClass, message, statusCode: null, latencyMs: elapsed(), responseBody: null };
    } finally {
      clearTimeout(timer);
      pool.slots.release();
      pool.lastUsed = performance.now();
      sweepIdlePools();
    }
  }

  return {
    post,
    close: async () => {
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((pool) => pool.agent.close()));
    },
  };
}

/**
 * Reads at most `maxBytes` of a response and drops the rest, so a receiver streaming
 * megabytes back cannot tie the sender up or fill the history.
 */
async function readBounded(stream: AsyncIterable<Buffer> & { destroy(): void }, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const room = maxBytes - size;
    if (room > 0) {
      const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
      chunks.push(piece);
      size += piece.length;
    }
    if (size >= maxBytes) {
      stream.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString("utf8");
}
