import { signDelivery } from "@novatrade/domain";
import type { DeliveryRequestRecord } from "@novatrade/event-codec";
import { signingSecrets, type EndpointConfig, type SecretBox } from "@novatrade/endpoint-config";
import type { AttemptResult, HttpDelivery } from "./http-delivery.js";

/** Headers besides the signatures; receivers log and dedupe on them. */
export const DELIVERY_REQUEST_HEADERS = {
  eventId: "X-Novatrade-Event-Id",
  eventType: "X-Novatrade-Event-Type",
  deliveryId: "X-Novatrade-Delivery-Id",
  attempt: "X-Novatrade-Attempt",
} as const;

/**
 * One signed POST of a delivery to its endpoint. The body is the rendered envelope exactly as
 * stored in the delivery request: the bytes signed are the bytes sent. `webhook-id` is the event
 * id, stable across retries and replays, so Standard Webhooks receivers dedupe on it.
 */
export async function attemptDelivery(
  request: DeliveryRequestRecord,
  endpoint: EndpointConfig,
  deps: { http: HttpDelivery; secretBox: SecretBox; nowMs: number },
): Promise<AttemptResult> {
  let secrets: string[];
  try {
    secrets = signingSecrets(endpoint, deps.nowMs).map((secret) => deps.secretBox.open(secret.ciphertext, endpoint.endpointId));
  } catch (error) {
    // A wrong ENDPOINT_SECRETS_KEY: nothing unsigned ever leaves, and the failure shows up in
    // outcomes and metrics like any other failed attempt instead of stalling the consumer.
    return { ok: false, errorClass: "other", message: (error as Error).message, statusCode: null, latencyMs: 0, responseBody: null };
  }
  if (secrets.length === 0) {
    return { ok: false, errorClass: "other", message: "endpoint has no signing secret valid now", statusCode: null, latencyMs: 0, responseBody: null };
  }
  const signature = signDelivery({
    webhookId: request.eventId,
    timestampSeconds: Math.floor(deps.nowMs / 1000),
    body: request.body,
    secrets,
  });
  return deps.http.post(endpoint.url, {
    ...signature,
    [DELIVERY_REQUEST_HEADERS.eventId]: request.eventId,
    [DELIVERY_REQUEST_HEADERS.eventType]: request.eventType,
    [DELIVERY_REQUEST_HEADERS.deliveryId]: request.deliveryId,
    [DELIVERY_REQUEST_HEADERS.attempt]: String(request.attempt),
  }, request.body);
}
