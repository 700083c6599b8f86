import type { DedupeStore } from "./dedupe-store.js";
import { MemoryDedupeStore } from "./dedupe-store.js";
import { novatradeSignatureMatches, parseNovatradeSignature } from "./novatrade-signature.js";
import { signingKey } from "./signing-secret.js";
import { parseStandardWebhooksHeaders, standardWebhooksSignatureMatches } from "./standard-webhooks-signature.js";
import { WebhookVerificationError } from "./verification-error.js";

/** The JSON envelope of every delivery. */
export interface WebhookEvent {
  id: string;
  type: string;
  schemaVersion: number;
  source: "API" | "WEB_APP" | "SYSTEM";
  createdAt: string;
  organizationUuid: string;
  partnerUuid: string | null;
  data: Record<string, unknown>;
}

/** A signature scheme a receiver checks. */
export type SignatureScheme = "novatrade" | "standard-webhooks";

/** Request headers as frameworks hand them over; names are matched case-insensitively. */
export type HeaderBag = Record<string, string | string[] | undefined>;

export interface WebhookReceiverOptions {
  /**
   * The endpoint's signing secrets (`whsec_…`). One normally; while you roll a secret over,
   * both the old and the new one, so deliveries signed with either verify.
   */
  secrets: readonly string[];
  /** Largest accepted distance between the signed timestamp and now, in seconds (default 300). */
  toleranceSeconds?: number;
  /** Schemes that must each be present and valid (default: both). */
  schemes?: readonly SignatureScheme[];
  /** Remembers processed event ids (default: in memory, the last 10,000). */
  store?: DedupeStore;
  /** The current time in milliseconds since the epoch (default Date.now); tests pass their own clock. */
  now?: () => number;
}

export interface HandledDelivery {
  event: WebhookEvent;
  /** True when this event id was processed before: the handler did not run again. */
  duplicate: boolean;
}

export interface WebhookReceiver {
  /**
   * Checks the signatures over the raw body bytes exactly as received (before any JSON parsing)
   * and returns the parsed event.
   * @throws WebhookVerificationError
   */
  verify(headers: HeaderBag, rawBody: Buffer | string): WebhookEvent;
  /**
   * verify, then run `process` unless the event id was processed before. The id is remembered
   * only after `process` resolves, so a delivery whose processing failed is processed again
   * when the dispatcher retries it.
   */
  handle(headers: HeaderBag, rawBody: Buffer | string, process: (event: WebhookEvent) => Promise<void> | void): Promise<HandledDelivery>;
}

function header(headers: HeaderBag, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value.join(",") : value;
  }
  return undefined;
}

function required(headers: HeaderBag, name: string): string {
  const value = header(headers, name);
  if (value === undefined || value === "") throw new WebhookVerificationError("missing_header", `the ${name} header is missing`);
  return value;
}

function parseEvent(rawBody: Buffer): WebhookEvent {
  let event: unknown;
  try {
    event = JSON.parse(rawBody.toString("utf8"));
  } catch {
    throw new WebhookVerificationError("invalid_body", "the body is not JSON");
  }
  const candidate = event as Partial<WebhookEvent> | null;
  if (typeof candidate !== "object" || candidate === null || typeof candidate.id !== "string" || typeof candidate.type !== "string") {
    throw new WebhookVerificationError("invalid_body", "the body is not an event envelope (id and type)");
  }
  return candidate as WebhookEvent;
}

export function createWebhookReceiver(options: WebhookReceiverOptions): WebhookReceiver {
  if (options.secrets.length === 0) throw new RangeError("secrets must hold at least one signing secret");
  const keys = options.secrets.map(signingKey);
  const toleranceSeconds = options.toleranceSeconds ?? 300;
  const schemes = options.schemes ?? ["novatrade", "standard-webhooks"];
  if (schemes.length === 0) throw new RangeError("schemes must name at least one signature scheme");
  const store = options.store ?? new MemoryDedupeStore();
  const now = options.now ?? Date.now;

  const checkTimestamp = (timestampSeconds: number) => {
    if (Math.abs(now() / 1000 - timestampSeconds) > toleranceSeconds) {
      throw new WebhookVerificationError("timestamp_out_of_tolerance", `the signed timestamp is more than ${toleranceSeconds} s away from now`);
    }
  };

  const verify = (headers: HeaderBag, body: Buffer | string): WebhookEvent => {
    const rawBody = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    let signedId: string | undefined;
    if (schemes.includes("novatrade")) {
      const signature = parseNovatradeSignature(required(headers, "x-novatrade-signature"));
      checkTimestamp(signature.timestampSeconds);
      if (!novatradeSignatureMatches(signature, rawBody, keys)) {
        throw new WebhookVerificationError("no_matching_signature", "no X-Novatrade-Signature v1 matches a known secret");
      }
    }
    if (schemes.includes("standard-webhooks")) {
      const standard = parseStandardWebhooksHeaders(
        required(headers, "webhook-id"),
        required(headers, "webhook-timestamp"),
        required(headers, "webhook-signature"),
      );
      checkTimestamp(standard.timestampSeconds);
      if (!standardWebhooksSignatureMatches(standard, rawBody, keys)) {
        throw new WebhookVerificationError("no_matching_signature", "no webhook-signature v1 matches a known secret");
      }
      signedId = standard.id;
    }
    const event = parseEvent(rawBody);
    if (signedId !== undefined && signedId !== event.id) {
      throw new WebhookVerificationError("invalid_body", "webhook-id differs from the event id in the body");
    }
    return event;
  };

  return {
    verify,
    async handle(headers, rawBody, process) {
      const event = verify(headers, rawBody);
      if (await store.has(event.id)) return { event, duplicate: true };
      await process(event);
      await store.remember(event.id);
      return { event, duplicate: false };
    },
  };
}
