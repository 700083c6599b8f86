import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors.js";
import {
  generateSecret,
  parseSecret,
  signDelivery,
  verifyNovatradeSignature,
} from "./signing.js";

// Vectors computed independently with Python's hmac module.
const SECRET_A = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="; // bytes 0x00..0x1f
const SECRET_B = "whsec_q6urq6urq6urq6urq6urq6urq6urq6ur"; // 24 × 0xab
const BODY = '{"id":"evt_a1b2c3d4e5f6","type":"kyc.vies_check_failed"}';
const T = 1_700_000_000;
const ID = "evt_a1b2c3d4e5f6";
const HEX_A = "524c7fa3ee499ed34942121b9368f218df93b832dabf89130929c44dc80ba6ff";
const B64_A = "xlRKaqxtp+c2wpNF0065Ob3cjmAYuhmLX4UEK6tH+nw=";
const HEX_B = "2d253f733b6c5ba8e344dd547eeb8b7f80cc80eab14e0dc0808973b1fac45810";
const B64_B = "8E0rHUtdRdz0APxs359/RyIudlzns3QxNjt0TcgKdi0=";

describe("secrets", () => {
  it("generates whsec_<base64> from the given bytes and parses it back", () => {
    const bytes = Buffer.alloc(32, 7);
    const secret = generateSecret(bytes);
    expect(secret).toBe(`whsec_${bytes.toString("base64")}`);
    expect(parseSecret(secret).equals(bytes)).toBe(true);
    expect(parseSecret(SECRET_A).equals(Buffer.from(Array.from({ length: 32 }, (_, i) => i)))).toBe(true);
  });

  it.each([
    ["too few bytes", 23],
    ["too many bytes", 65],
  ])("generateSecret rejects %s", (_name, n) => {
    expect(() => generateSecret(Buffer.alloc(n))).toThrowError(ValidationError);
  });

  it.each([
    ["no prefix", SECRET_A.slice("whsec_".length)],
    ["wrong prefix", SECRET_A.replace("whsec_", "whsk_")],
    ["empty key", "whsec_"],
    ["not base64", "whsec_!!!!AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"],
    ["unpadded", "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"],
    ["url-safe alphabet", "whsec_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_"],
    ["whitespace", "whsec_q6urq6urq6urq6ur q6urq6urq6urq6ur"],
    ["16-byte key", `whsec_${Buffer.alloc(16, 1).toString("base64")}`],
    ["not a string", 42],
  ])("parseSecret rejects %s without echoing it", (_name, secret) => {
    let caught: unknown;
    try {
      parseSecret(secret, "SECRET");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).field).toBe("SECRET");
    if (typeof secret === "string" && secret.length > 12) {
      expect((caught as ValidationError).message).not.toContain(secret.slice(6, 18));
    }
  });
});

describe("signDelivery", () => {
  it.each([
    ["one secret", [SECRET_A], `t=${T},v1=${HEX_A}`, `v1,${B64_A}`],
    ["rotation: old and new", [SECRET_A, SECRET_B], `t=${T},v1=${HEX_A},v1=${HEX_B}`, `v1,${B64_A} v1,${B64_B}`],
    ["a repeated secret signs once", [SECRET_B, SECRET_B], `t=${T},v1=${HEX_B}`, `v1,${B64_B}`],
  ])("%s", (_name, secrets, novatrade, standard) => {
    expect(signDelivery({ webhookId: ID, timestampSeconds: T, body: BODY, secrets })).toEqual({
      "X-Novatrade-Signature": novatrade,
      "webhook-id": ID,
      "webhook-timestamp": String(T),
      "webhook-signature": standard,
    });
  });

  it("signs a Buffer body exactly like its UTF-8 string", () => {
    const body = '{"name":"Müller ✓"}';
    const fromString = signDelivery({ webhookId: ID, timestampSeconds: T, body, secrets: [SECRET_A] });
    const fromBuffer = signDelivery({ webhookId: ID, timestampSeconds: T, body: Buffer.from(body), secrets: [SECRET_A] });
    expect(fromBuffer).toEqual(fromString);
  });

  it.each([
    ["no secrets", { secrets: [] }, ValidationError],
    ["bad secret", { secrets: [SECRET_A, "whsec_nope"] }, ValidationError],
    ["empty webhook id", { webhookId: "" }, ValidationError],
    ["webhook id with a space", { webhookId: "evt 1" }, ValidationError],
    ["fractional timestamp", { timestampSeconds: 1.5 }, RangeError],
    ["timestamp in ms mistaken for s is still an integer", { timestampSeconds: -1 }, RangeError],
  ])("rejects %s", (_name, overrides, errorType) => {
    expect(() => signDelivery({ webhookId: ID, timestampSeconds: T, body: BODY, secrets: [SECRET_A], ...overrides })).toThrowError(
      errorType,
    );
  });

  it("is accepted by the standardwebhooks reference library, for every secret of a rotation", () => {
    const now = Math.floor(Date.now() / 1000); // the library checks against the real clock
    const headers = signDelivery({ webhookId: ID, timestampSeconds: now, body: BODY, secrets: [SECRET_A, SECRET_B] });
    const plain = { ...headers } as Record<string, string>;
    for (const secret of [SECRET_A, SECRET_B]) {
      expect(new Webhook(secret).verify(BODY, plain)).toEqual(JSON.parse(BODY));
      expect(new Webhook(secret).verify(Buffer.from(BODY), plain)).toEqual(JSON.parse(BODY));
    }
    const stranger = generateSecret(Buffer.alloc(32, 9));
    expect(() => new Webhook(stranger).verify(BODY, plain)).toThrowError(/No matching signature/);
    expect(() => new Webhook(SECRET_A).verify(`${BODY} `, plain)).toThrowError(/No matching signature/);
  });
});

describe("verifyNovatradeSignature", () => {
  const rotated = `t=${T},v1=${HEX_A},v1=${HEX_B}`;
  it.each([
    ["valid", `t=${T},v1=${HEX_A}`, BODY, SECRET_A, T, { valid: true, timestampSeconds: T }],
    ["rotation, old secret", rotated, BODY, SECRET_A, T, { valid: true, timestampSeconds: T }],
    ["rotation, new secret", rotated, BODY, SECRET_B, T, { valid: true, timestampSeconds: T }],
    ["spaces and unknown schemes tolerated", `t=${T}, v0=abc, v1=${HEX_A.toUpperCase()}`, BODY, SECRET_A, T, { valid: true, timestampSeconds: T }],
    ["at the tolerance edge", `t=${T},v1=${HEX_A}`, BODY, SECRET_A, T + 300, { valid: true, timestampSeconds: T }],
    ["too old", `t=${T},v1=${HEX_A}`, BODY, SECRET_A, T + 301, { valid: false, reason: "timestamp_out_of_tolerance" }],
    ["too new", `t=${T},v1=${HEX_A}`, BODY, SECRET_A, T - 301, { valid: false, reason: "timestamp_out_of_tolerance" }],
    ["tampered body", `t=${T},v1=${HEX_A}`, `${BODY} `, SECRET_A, T, { valid: false, reason: "no_matching_signature" }],
    ["tampered timestamp", `t=${T + 1},v1=${HEX_A}`, BODY, SECRET_A, T, { valid: false, reason: "no_matching_signature" }],
    ["other secret", `t=${T},v1=${HEX_A}`, BODY, SECRET_B, T, { valid: false, reason: "no_matching_signature" }],
    ["truncated mac", `t=${T},v1=${HEX_A.slice(0, 40)}`, BODY, SECRET_A, T, { valid: false, reason: "no_matching_signature" }],
    ["no v1", `t=${T}`, BODY, SECRET_A, T, { valid: false, reason: "malformed_header" }],
    ["no t", `v1=${HEX_A}`, BODY, SECRET_A, T, { valid: false, reason: "malformed_header" }],
    ["two t", `t=${T},t=${T},v1=${HEX_A}`, BODY, SECRET_A, T, { valid: false, reason: "malformed_header" }],
    ["non-numeric t", `t=abc,v1=${HEX_A}`, BODY, SECRET_A, T, { valid: false, reason: "malformed_header" }],
    ["garbage", "hello", BODY, SECRET_A, T, { valid: false, reason: "malformed_header" }],
    ["empty", "", BODY, SECRET_A, T, { valid: false, reason: "malformed_header" }],
  ])("%s", (_name, header, body, secret, now, expected) => {
    expect(verifyNovatradeSignature(header, body, secret, now, 300)).toEqual(expected);
  });

  it("verifies what signDelivery produces, byte for byte", () => {
    const body = Buffer.from([0x7b, 0x7d, 0xff, 0x00]); // not even UTF-8: the raw bytes are signed
    const headers = signDelivery({ webhookId: ID, timestampSeconds: T, body, secrets: [SECRET_B] });
    expect(verifyNovatradeSignature(headers["X-Novatrade-Signature"], body, SECRET_B, T + 10)).toEqual({ valid: true, timestampSeconds: T });
  });
});
