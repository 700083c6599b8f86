import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP } from "node:net";
import { Agent, errors as undiciErrors } from "undici";
import { isAddressAllowed, NovatradeError } from "@novatrade/domain";

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
  /** Time allowed for the whole attempt, connect to last byte kept, in milliseconds. */
  totalTimeoutMs: number;
  /** Response bytes kept for the history; the rest is not read. */
  maxResponseBytes: number;
  /** Connections kept open per endpoint origin (keep-alive pool size). */
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

export interface HttpDelivery {
  /** One attempt: POST `body` to `url`. Never throws; every failure is an AttemptResult. */
  post(url: string, headers: Record<string, string>, body: string): Promise<AttemptResult>;
  close(): Promise<void>;
}

export function createHttpDelivery(config: HttpDeliveryConfig): HttpDelivery {
  const policy = { allowLoopback: config.allowLoopback, allowPrivate: config.allowPrivateNetworks };
  const agent = new Agent({
    connections: config.connectionsPerOrigin,
    keepAliveTimeout: 30_000,
    headersTimeout: config.totalTimeoutMs,
    bodyTimeout: config.totalTimeoutMs,
    connect: { timeout: config.connectTimeoutMs, lookup: guardedLookup(policy) as never },
  });

  async function post(url: string, headers: Record<string, string>, body: string): Promise<AttemptResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return { ok: false, errorClass: "invalid_url", message: "endpoint URL does not parse", statusCode: null, latencyMs: 0, responseBody: null };
    }
    if (target.protocol !== "https:" && !(config.allowHttp && target.protocol === "http:")) {
      return { ok: false, errorClass: "invalid_url", message: `${target.protocol} endpoints are not allowed`, statusCode: null, latencyMs: 0, responseBody: null };
    }
    // A literal IP never goes through DNS, so the connect-time lookup guard would not see it.
    const literalHost = target.hostname.replace(/^\[|\]$/g, "");
    if (isIP(literalHost) && !isAddressAllowed(literalHost, policy)) {
      return { ok: false, errorClass: "blocked_address", message: `address ${literalHost} is not allowed`, statusCode: null, latencyMs: 0, responseBody: null };
    }
    try {
      const response = await agent.request({
        origin: target.origin,
        path: `${target.pathname}${target.search}`,
        method: "POST",
        headers: { ...headers, "content-type": "application/json", "user-agent": config.userAgent },
        body,
        signal: AbortSignal.timeout(config.totalTimeoutMs),
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
    }
  }

  return { post, close: () => agent.close() };
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
