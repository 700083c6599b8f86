import { signDelivery } from "@novatrade/domain";
import type { DeliveryRequestRecord } from "@novatrade/event-codec";
import { SecretDecryptionError, signingSecrets, type EndpointConfig, type SecretBox } from "@novatrade/endpoint-config";
import { BoundedCache } from "./bounded-cache.js";
import type { AttemptResult, HttpDelivery } from "./http-delivery.js";

/** Opened secrets kept: a few per endpoint (rotations overlap) for 10,000s of endpoints. */
const OPENED_SECRETS_KEPT = 50_000;

/**
 * Endpoint secrets opened once, not once per delivery (AES-GCM setup and three base64 decodes
 * were a measurable share of an attempt's CPU). A sealed secret is immutable and opens to the
 * same plaintext every time, so nothing needs invalidating; a rotated secret is a new sealed
 * string. A secret that does not open is not remembered: the next attempt tries again.
 */
export class OpenedSecrets {
  readonly #box: Pick<SecretBox, "open">;
  readonly #opened = new BoundedCache<string>(OPENED_SECRETS_KEPT);

  constructor(box: Pick<SecretBox, "open">) {
    this.#box = box;
  }

  open(sealed: string, endpointId: string): string {
    return this.#opened.getOrMake(`${endpointId}\u0000${sealed}`, () => this.#box.open(sealed, endpointId));
  }

  /** Secrets never reach a log. */
  toJSON(): string {
    return "[OpenedSecrets]";
  }
}

/** Headers besides the signatures; receivers log and dedupe on them. */
export const DELIVERY_REQUEST_HEADERS = {
  eventId: "X-Novatrade-Event-Id",
  eventType: "X-Novatrade-Event-Type",
  deliveryId: "X-Novatrade-Delivery-Id",
  attempt: "X-Novatrade-Attempt",
} as const;

/**
 * The dispatcher's own fault, found before anything was sent: a secret the configured
 * ENDPOINT_SECRETS_KEY cannot open, no secret valid now, or signing failing. Not an attempt: it
 * spends none of the endpoint's attempts and writes no failed outcome (SPEC §4: only the
 * receiver's failures count); the sender holds the delivery until it can sign.
 */
export interface OwnFault {
  ownFault: true;
  reason: "secret_unreadable" | "no_usable_secret" | "signing_failed";
  message: string;
}

/**
 * One signed POST of a delivery to its endpoint. The body is the rendered envelope exactly as
 * stored in the delivery request: the bytes signed are the bytes sent. `webhook-id` is the event
 * id, stable across retries and replays, so Standard Webhooks receivers dedupe on it.
 */
export async function attemptDelivery(
  request: DeliveryRequestRecord,
  endpoint: EndpointConfig,
  deps: { http: HttpDelivery; secretBox: Pick<SecretBox, "open">; nowMs: number },
): Promise<AttemptResult | OwnFault> {
  let signature: ReturnType<typeof signDelivery>;
  try {
    const secrets = signingSecrets(endpoint, deps.nowMs).map((secret) => deps.secretBox.open(secret.ciphertext, endpoint.endpointId));
    if (secrets.length === 0) return { ownFault: true, reason: "no_usable_secret", message: "endpoint has no signing secret valid now" };
    signature = signDelivery({ webhookId: request.eventId, timestampSeconds: Math.floor(deps.nowMs / 1000), body: request.body, secrets });
  } catch (error) {
    // A wrong ENDPOINT_SECRETS_KEY or a secret we cannot use: nothing unsigned ever leaves, and
    // it is our failure, not the receiver's. The error's message never holds the secret.
    const reason = error instanceof SecretDecryptionError ? "secret_unreadable" : "signing_failed";
    return { ownFault: true, reason, message: (error as Error).message };
  }
  return deps.http.post(endpoint.url, {
    ...signature,
    [DELIVERY_REQUEST_HEADERS.eventId]: request.eventId,
    [DELIVERY_REQUEST_HEADERS.eventType]: request.eventType,
    [DELIVERY_REQUEST_HEADERS.deliveryId]: request.deliveryId,
    [DELIVERY_REQUEST_HEADERS.attempt]: String(request.attempt),
  }, request.body, { poolKey: endpoint.endpointId, connections: endpoint.maxInFlight });
}

/** Whether an attempt's result is a fault of ours (no request was sent). */
export function isOwnFault(result: AttemptResult | OwnFault): result is OwnFault {
  return "ownFault" in result;
}
