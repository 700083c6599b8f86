import { describe, expect, test } from "vitest";
import { verifyNovatradeSignature } from "@novatrade/domain";
import type { DeliveryRequestRecord } from "@novatrade/event-codec";
import { registerEndpoint, rotateSecret, SecretBox } from "@novatrade/endpoint-config";
import { attemptDelivery, isOwnFault, OpenedSecrets } from "./delivery-attempt.js";
import type { AttemptResult, HttpDelivery } from "./http-delivery.js";

const box = SecretBox.fromBase64Key(Buffer.alloc(32, 3).toString("base64"));
const now = Date.UTC(2026, 10, 25, 12, 0, 0);

function endpoint() {
  return registerEndpoint(
    { organizationUuid: "5b7f2c1e-9d3a-4e8b-a6f0-1c2d3e4f5a6b", url: "https://hooks.example.com/in", eventTypes: ["kyc.*"] },
    { secretBox: box, now, urlPolicy: { allowHttp: false, allowLoopback: false, allowPrivate: false }, newEndpointId: () => "ep_test" },
  );
}

const request: DeliveryRequestRecord = {
  deliveryId: "dlv_0123456789abcdef01234567",
  eventId: "evt_aaaaaaaaaaaaaaaaaaaaaaaa",
  eventType: "kyc.vies_check_failed",
  endpointId: "ep_test",
  organizationUuid: "5b7f2c1e-9d3a-4e8b-a6f0-1c2d3e4f5a6b",
  partnerUuid: null,
  schemaVersion: 1,
  body: '{"id":"evt_aaaaaaaaaaaaaaaaaaaaaaaa"}',
  attempt: 3,
  retrySchedule: [5_000],
  firstAttemptAt: now - 60_000,
  notBefore: now,
  isMeta: false,
  replayId: null,
  createdAt: now - 60_000,
};

/** Records the one POST it is asked for and answers 204. */
function recordingHttp() {
  const calls: Array<{ url: string; headers: Record<string, string>; body: string }> = [];
  const http: HttpDelivery = {
    post: async (url, headers, body): Promise<AttemptResult> => {
      calls.push({ url, headers, body });
      return { ok: true, statusCode: 204, latencyMs: 1, responseBody: "" };
    },
    close: async () => {},
  };
  return { http, calls };
}

describe("attemptDelivery", () => {
  test("POSTs the stored body unchanged, signed with the endpoint's secret, with the delivery headers", async () => {
    const { config, plaintextSecret } = endpoint();
    const { http, calls } = recordingHttp();
    const result = await attemptDelivery(request, config, { http, secretBox: box, nowMs: now });
    expect(result).toMatchObject({ ok: true });
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call.url).toBe("https://hooks.example.com/in");
    expect(call.body).toBe(request.body);
    expect(call.headers).toMatchObject({
      "webhook-id": request.eventId,
      "webhook-timestamp": String(now / 1000),
      "X-Novatrade-Event-Id": request.eventId,
      "X-Novatrade-Event-Type": "kyc.vies_check_failed",
      "X-Novatrade-Delivery-Id": request.deliveryId,
      "X-Novatrade-Attempt": "3",
    });
    const verification = verifyNovatradeSignature(call.headers["X-Novatrade-Signature"]!, request.body, plaintextSecret, now / 1000);
    expect(verification.valid).toBe(true);
  });

  test("during a rotation both secrets sign; after the overlap only the new one", async () => {
    const { config, plaintextSecret: oldSecret } = endpoint();
    const rotated = rotateSecret(config, { secretBox: box, now, overlapMs: 60_000 });
    const { http, calls } = recordingHttp();
    await attemptDelivery(request, rotated.config, { http, secretBox: box, nowMs: now + 1_000 });
    await attemptDelivery(request, rotated.config, { http, secretBox: box, nowMs: now + 61_000 });
    const [during, after] = calls.map((call) => call.headers["X-Novatrade-Signature"]!);
    expect(during!.match(/v1=/g)).toHaveLength(2);
    expect(after!.match(/v1=/g)).toHaveLength(1);
    expect(verifyNovatradeSignature(during!, request.body, oldSecret, (now + 1_000) / 1000).valid).toBe(true);
    expect(verifyNovatradeSignature(after!, request.body, oldSecret, (now + 61_000) / 1000).valid).toBe(false);
    expect(verifyNovatradeSignature(after!, request.body, rotated.plaintextSecret, (now + 61_000) / 1000).valid).toBe(true);
  });

  test("secrets the configured key cannot open: our fault, not a failed attempt, and nothing is sent unsigned", async () => {
    const { config } = endpoint();
    const otherBox = SecretBox.fromBase64Key(Buffer.alloc(32, 4).toString("base64"));
    const { http, calls } = recordingHttp();
    const result = await attemptDelivery(request, config, { http, secretBox: otherBox, nowMs: now });
    expect(result).toMatchObject({ ownFault: true, reason: "secret_unreadable" });
    expect(isOwnFault(result)).toBe(true);
    expect(calls).toHaveLength(0);
  });

  test("no secret valid now: our fault, nothing sent", async () => {
    const { config } = endpoint();
    const expired = { ...config, secrets: config.secrets.map((secret) => ({ ...secret, expiresAt: now - 1 })) };
    const { http, calls } = recordingHttp();
    const result = await attemptDelivery(request, expired, { http, secretBox: box, nowMs: now });
    expect(result).toMatchObject({ ownFault: true, reason: "no_usable_secret" });
    expect(calls).toHaveLength(0);
  });
});

describe("OpenedSecrets", () => {
  /** The box, counting how often it is asked to open. */
  function countingBox(inner: SecretBox) {
    let opens = 0;
    return { box: { open: (sealed: string, endpointId: string) => (opens++, inner.open(sealed, endpointId)) }, opens: () => opens };
  }

  test("opens each sealed secret of an endpoint once, however many deliveries sign with it", async () => {
    const { config } = endpoint();
    const counting = countingBox(box);
    const secrets = new OpenedSecrets(counting.box);
    const { http, calls } = recordingHttp();
    for (let i = 0; i < 3; i++) await attemptDelivery(request, config, { http, secretBox: secrets, nowMs: now });
    expect(counting.opens()).toBe(1);
    // Signed alike as with the box itself.
    await attemptDelivery(request, config, { http, secretBox: box, nowMs: now });
    expect(calls[2]!.headers).toEqual(calls[3]!.headers);
  });

  test("a secret that does not open is tried again on the next delivery, and never shown in JSON", async () => {
    const { config } = endpoint();
    const counting = countingBox(SecretBox.fromBase64Key(Buffer.alloc(32, 4).toString("base64")));
    const secrets = new OpenedSecrets(counting.box);
    const { http } = recordingHttp();
    for (let i = 0; i < 2; i++) {
      expect(await attemptDelivery(request, config, { http, secretBox: secrets, nowMs: now })).toMatchObject({ ownFault: true, reason: "secret_unreadable" });
    }
    expect(counting.opens()).toBe(2);
    expect(JSON.stringify({ secrets })).toBe('{"secrets":"[OpenedSecrets]"}');
  });
});
