import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, test } from "vitest";
import { MemoryDedupeStore } from "./dedupe-store.js";
import { WebhookVerificationError, type VerificationFailure } from "./verification-error.js";
import { createWebhookReceiver, type HeaderBag, type WebhookEvent } from "./webhook-receiver.js";

// The Standard Webhooks specification's published test vector.
const SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SPEC_TIMESTAMP = 1614265330;
const SPEC_BODY = '{"test": 2432232314}';
const SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

const OLD_SECRET = `whsec_${Buffer.alloc(32, 1).toString("base64")}`;
const NEW_SECRET = `whsec_${Buffer.alloc(32, 2).toString("base64")}`;
const OTHER_SECRET = `whsec_${Buffer.alloc(32, 3).toString("base64")}`;
const NOW_SECONDS = 1_767_000_000;
const clock = () => NOW_SECONDS * 1000;

function envelope(id = "evt_0123456789abcdef"): string {
  const event: WebhookEvent = {
    id,
    type: "kyc.vies_check_failed",
    schemaVersion: 1,
    source: "WEB_APP",
    createdAt: "2026-11-25T10:00:00.000Z",
    organizationUuid: "550e8400-e29b-41d4-a716-446655440000",
    partnerUuid: null,
    data: { buyerId: "b-1" },
  };
  return JSON.stringify(event);
}

/** Signs the way the dispatcher documents it, written independently of the code under test. */
function signed(body: string, secrets: string[], t = NOW_SECONDS): HeaderBag {
  const id = (JSON.parse(body) as { id: string }).id;
  const keys = secrets.map((secret) => Buffer.from(secret.slice(6), "base64"));
  const mac = (key: Buffer, text: string) => createHmac("sha256", key).update(text);
  return {
    "x-novatrade-signature": [`t=${t}`, ...keys.map((key) => `v1=${mac(key, `${t}.${body}`).digest("hex")}`)].join(","),
    "webhook-id": id,
    "webhook-timestamp": String(t),
    "webhook-signature": keys.map((key) => `v1,${mac(key, `${id}.${t}.${body}`).digest("base64")}`).join(" "),
  };
}

function failure(run: () => unknown): VerificationFailure | "accepted" {
  try {
    run();
    return "accepted";
  } catch (error) {
    if (error instanceof WebhookVerificationError) return error.reason;
    throw error;
  }
}

describe("createWebhookReceiver().verify", () => {
  test("the Standard Webhooks specification's vector verifies", () => {
    const receiver = createWebhookReceiver({ secrets: [SPEC_SECRET], schemes: ["standard-webhooks"], now: () => SPEC_TIMESTAMP * 1000 });
    const headers = { "webhook-id": SPEC_ID, "webhook-timestamp": String(SPEC_TIMESTAMP), "webhook-signature": SPEC_SIGNATURE };
    // The vector's body is not an event envelope: the signature passes, the envelope check refuses it.
    expect(failure(() => receiver.verify(headers, SPEC_BODY))).toBe("invalid_body");
    expect(failure(() => receiver.verify({ ...headers, "webhook-signature": "v1,AAAA" }, SPEC_BODY))).toBe("no_matching_signature");
  });

  test("a delivery signed by the standardwebhooks library verifies under both schemes' Standard Webhooks half", () => {
    const body = envelope();
    const date = new Date(NOW_SECONDS * 1000);
    const signature = new Webhook(NEW_SECRET.slice(6)).sign("evt_0123456789abcdef", date, body);
    const receiver = createWebhookReceiver({ secrets: [NEW_SECRET], schemes: ["standard-webhooks"], now: clock });
    const event = receiver.verify({ "webhook-id": "evt_0123456789abcdef", "webhook-timestamp": String(NOW_SECONDS), "webhook-signature": signature }, body);
    expect(event.type).toBe("kyc.vies_check_failed");
  });

  const body = envelope();
  const cases: Array<{ name: string; secrets: string[]; headers: HeaderBag; body?: string; expected: VerificationFailure | "accepted" }> = [
    { name: "both schemes valid", secrets: [NEW_SECRET], headers: signed(body, [NEW_SECRET]), expected: "accepted" },
    { name: "header names in any case", secrets: [NEW_SECRET], headers: Object.fromEntries(Object.entries(signed(body, [NEW_SECRET])).map(([k, v]) => [k.toUpperCase(), v])), expected: "accepted" },
    { name: "rotation: signed with old+new, receiver knows only the new", secrets: [NEW_SECRET], headers: signed(body, [OLD_SECRET, NEW_SECRET]), expected: "accepted" },
    { name: "rotation: signed with old+new, receiver knows only the old", secrets: [OLD_SECRET], headers: signed(body, [OLD_SECRET, NEW_SECRET]), expected: "accepted" },
    { name: "receiver holds old and new, delivery signed with new only", secrets: [OLD_SECRET, NEW_SECRET], headers: signed(body, [NEW_SECRET]), expected: "accepted" },
    { name: "wrong secret", secrets: [OTHER_SECRET], headers: signed(body, [NEW_SECRET]), expected: "no_matching_signature" },
    { name: "body changed by one byte", secrets: [NEW_SECRET], headers: signed(body, [NEW_SECRET]), body: body.replace("b-1", "b-2"), expected: "no_matching_signature" },
    { name: "timestamp 301 s old", secrets: [NEW_SECRET], headers: signed(body, [NEW_SECRET], NOW_SECONDS - 301), expected: "timestamp_out_of_tolerance" },
    { name: "timestamp 301 s ahead", secrets: [NEW_SECRET], headers: signed(body, [NEW_SECRET], NOW_SECONDS + 301), expected: "timestamp_out_of_tolerance" },
    { name: "timestamp 299 s old", secrets: [NEW_SECRET], headers: signed(body, [NEW_SECRET], NOW_SECONDS - 299), expected: "accepted" },
    { name: "no X-Novatrade-Signature", secrets: [NEW_SECRET], headers: { ...signed(body, [NEW_SECRET]), "x-novatrade-signature": undefined }, expected: "missing_header" },
    { name: "no webhook-signature", secrets: [NEW_SECRET], headers: { ...signed(body, [NEW_SECRET]), "webhook-signature": undefined }, expected: "missing_header" },
    { name: "X-Novatrade-Signature without v1", secrets: [NEW_SECRET], headers: { ...signed(body, [NEW_SECRET]), "x-novatrade-signature": `t=${NOW_SECONDS}` }, expected: "malformed_header" },
    { name: "X-Novatrade-Signature with two t", secrets: [NEW_SECRET], headers: { ...signed(body, [NEW_SECRET]), "x-novatrade-signature": `t=1,t=2,v1=${"a".repeat(64)}` }, expected: "malformed_header" },
    { name: "webhook-id not the body's id", secrets: [NEW_SECRET], headers: { ...signed(body, [NEW_SECRET]) }, body: envelope("evt_other"), expected: "no_matching_signature" },
  ];
  test.each(cases)("$name: $expected", ({ secrets, headers, body: received, expected }) => {
    const receiver = createWebhookReceiver({ secrets, now: clock });
    expect(failure(() => receiver.verify(headers, received ?? body))).toBe(expected);
  });

  test("a body whose id differs from the signed webhook-id is refused", () => {
    // Both MACs are valid, but the Standard Webhooks one was made for another message id.
    const body = envelope("evt_in_body");
    const key = Buffer.from(NEW_SECRET.slice(6), "base64");
    const mac = createHmac("sha256", key).update(`evt_signed.${NOW_SECONDS}.${body}`).digest("base64");
    const headers = { ...signed(body, [NEW_SECRET]), "webhook-id": "evt_signed", "webhook-signature": `v1,${mac}` };
    const receiver = createWebhookReceiver({ secrets: [NEW_SECRET], now: clock });
    expect(failure(() => receiver.verify(headers, body))).toBe("invalid_body");
    expect(failure(() => receiver.verify(signed(body, [NEW_SECRET]), body))).toBe("accepted");
  });

  test("a malformed secret is refused at construction, without echoing it", () => {
    const error = (() => {
      try {
        createWebhookReceiver({ secrets: ["not-a-secret-xyz"] });
      } catch (caught) {
        return caught as WebhookVerificationError;
      }
      return undefined;
    })();
    expect(error?.reason).toBe("malformed_secret");
    expect(error?.message).not.toContain("not-a-secret-xyz");
  });
});

describe("createWebhookReceiver().handle", () => {
  test("runs the handler once per event id; a failed handler does not mark the id as seen", async () => {
    const receiver = createWebhookReceiver({ secrets: [NEW_SECRET], now: clock });
    const body = envelope("evt_dedupe");
    const headers = signed(body, [NEW_SECRET]);
    const processed: string[] = [];
    await expect(receiver.handle(headers, body, () => Promise.reject(new Error("database down")))).rejects.toThrow("database down");
    expect(await receiver.handle(headers, body, (event) => void processed.push(event.id))).toMatchObject({ duplicate: false });
    expect(await receiver.handle(headers, body, (event) => void processed.push(event.id))).toMatchObject({ duplicate: true });
    expect(processed).toEqual(["evt_dedupe"]);
  });

  test("an invalid delivery never reaches the handler", async () => {
    const receiver = createWebhookReceiver({ secrets: [OTHER_SECRET], now: clock });
    const body = envelope();
    let called = false;
    await expect(receiver.handle(signed(body, [NEW_SECRET]), body, () => void (called = true))).rejects.toBeInstanceOf(WebhookVerificationError);
    expect(called).toBe(false);
  });
});

describe("MemoryDedupeStore", () => {
  test("keeps at most maxEntries ids, forgetting the least recently remembered", () => {
    const store = new MemoryDedupeStore(2);
    store.remember("a");
    store.remember("b");
    store.remember("a");
    store.remember("c");
    expect(store.size).toBe(2);
    expect(store.has("a")).toBe(true);
    expect(store.has("b")).toBe(false);
    expect(store.has("c")).toBe(true);
  });

  test("refuses a bound that is not a positive integer", () => {
    expect(() => new MemoryDedupeStore(0)).toThrow(RangeError);
  });
});
