import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { sampleEvent } from "@novatrade/event-codec";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { startReceiver, type ReceivedRequest, type Receiver } from "../support/receiver.js";

/** The X-Novatrade-Signature check an integrator would write by hand, from the docs alone. */
function novatradeSignatureMatches(request: ReceivedRequest, secret: string): boolean {
  const header = String(request.headers["x-novatrade-signature"]);
  const parts = header.split(",");
  const t = parts.find((part) => part.startsWith("t="))!.slice(2);
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const expected = createHmac("sha256", key).update(`${t}.${request.body}`).digest("hex");
  return parts.filter((part) => part.startsWith("v1=")).some((part) => part.slice(3) === expected);
}

describe("signed delivery (real broker, registry, loopback receiver)", () => {
  let pipeline: Pipeline;
  let receiver: Receiver;

  beforeAll(async () => {
    pipeline = await startPipeline();
    await pipeline.startRouter();
    await pipeline.startSender();
    receiver = await startReceiver();
  });

  afterAll(async () => {
    await pipeline?.close();
    await receiver?.close();
  });

  test("an event reaches its endpoint once, signed both ways, with the documented headers", async () => {
    const { config, secret } = await pipeline.addEndpoint({ url: receiver.url, eventTypes: ["kyc.*"] });
    const eventId = await pipeline.publish({ type: "kyc.vies_check_failed", data: sampleEvent("kyc.vies_check_failed").data });

    const [request] = await receiver.waitForRequests(1);
    expect(request!.json.id).toBe(eventId);
    expect(request!.json.type).toBe("kyc.vies_check_failed");
    expect(request!.headers["x-novatrade-event-id"]).toBe(eventId);
    expect(request!.headers["x-novatrade-event-type"]).toBe("kyc.vies_check_failed");
    expect(request!.headers["x-novatrade-attempt"]).toBe("1");
    expect(request!.headers["user-agent"]).toMatch(/^Novatrade-Webhooks\//);
    expect(request!.headers["webhook-id"]).toBe(eventId);

    // Standard Webhooks: an off-the-shelf verifier accepts it (and rejects a tampered body).
    const verifier = new Webhook(secret.slice("whsec_".length));
    const headers = {
      "webhook-id": String(request!.headers["webhook-id"]),
      "webhook-timestamp": String(request!.headers["webhook-timestamp"]),
      "webhook-signature": String(request!.headers["webhook-signature"]),
    };
    expect(verifier.verify(request!.body, headers)).toMatchObject({ id: eventId });
    expect(() => verifier.verify(request!.body.replace("kyc", "KYC"), headers)).toThrow();

    // X-Novatrade-Signature, checked by hand: HMAC-SHA256 over "<t>.<raw body>".
    expect(novatradeSignatureMatches(request!, secret)).toBe(true);
    expect(novatradeSignatureMatches({ ...request!, body: `${request!.body} ` }, secret)).toBe(false);

    const outcomes = await pipeline.outcomes.waitFor(
      (list) => list.some((outcome) => outcome.eventId === eventId),
      "a SUCCEEDED outcome",
    );
    const outcome = outcomes.find((entry) => entry.eventId === eventId)!;
    expect(outcome).toMatchObject({ endpointId: config.endpointId, attempt: 1, result: "SUCCEEDED", statusCode: 200, responseBody: "ok" });
  });

  test("during a secret rotation both secrets sign the same delivery", async () => {
    const rotating = await startReceiver();
    try {
      const { config, secret: oldSecret } = await pipeline.addEndpoint({ url: rotating.url, eventTypes: ["prospect.submitted"] });
      const { secret: newSecret } = await pipeline.rotateEndpointSecret(config, 60 * 60 * 1000);
      await pipeline.publish({ type: "prospect.submitted", data: sampleEvent("prospect.submitted").data });

      const [request] = await rotating.waitForRequests(1);
      const header = String(request!.headers["x-novatrade-signature"]);
      expect(header.split(",").filter((part) => part.startsWith("v1="))).toHaveLength(2);
      expect(novatradeSignatureMatches(request!, oldSecret)).toBe(true);
      expect(novatradeSignatureMatches(request!, newSecret)).toBe(true);
      const headers = {
        "webhook-id": String(request!.headers["webhook-id"]),
        "webhook-timestamp": String(request!.headers["webhook-timestamp"]),
        "webhook-signature": String(request!.headers["webhook-signature"]),
      };
      expect(String(request!.headers["webhook-signature"]).split(" ")).toHaveLength(2);
      for (const secret of [oldSecret, newSecret]) {
        expect(new Webhook(secret.slice("whsec_".length)).verify(request!.body, headers)).toBeTruthy();
      }
    } finally {
      await rotating.close();
    }
  });
});
