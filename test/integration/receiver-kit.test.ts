import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { sampleEvent } from "@novatrade/event-codec";
import { createNodeHttpListener, createWebhookReceiver, MemoryDedupeStore, type WebhookEvent, type WebhookVerificationError } from "@novatrade/receiver";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { waitUntil } from "../support/wait-until.js";

/** An integrator's endpoint built on the receiver kit, recording what reached it and what it processed. */
interface KitEndpoint {
  url: string;
  /** Raw requests as received, for replaying one later. */
  raw: Array<{ headers: IncomingHttpHeaders; body: Buffer }>;
  processed: WebhookEvent[];
  rejected: WebhookVerificationError[];
  /** The endpoint's secret exists once it is registered, after its URL: verify with these from now on. */
  useSecrets(secrets: string[]): void;
  close(): Promise<void>;
}

async function startKitEndpoint(process: (event: WebhookEvent, call: number) => void = () => {}): Promise<KitEndpoint> {
  const endpoint = { raw: [], processed: [], rejected: [] } as unknown as KitEndpoint;
  let calls = 0;
  let listener: ReturnType<typeof createNodeHttpListener> | undefined;
  endpoint.useSecrets = (secrets) => {
    listener = createNodeHttpListener(
      createWebhookReceiver({ secrets, store: new MemoryDedupeStore(100) }),
      (event) => {
        process(event, calls++);
        endpoint.processed.push(event);
      },
      { onRejected: (error) => endpoint.rejected.push(error) },
    );
  };
  const server: Server = createServer((request, response) => {
    if (!listener) return void response.writeHead(503).end();
    // Keep a copy of the raw request, then hand the same bytes to the kit.
    const chunks: Buffer[] = [];
    const original = request.push.bind(request);
    request.push = (chunk: Buffer | null, encoding?: BufferEncoding) => {
      if (chunk) chunks.push(Buffer.from(chunk));
      else endpoint.raw.push({ headers: request.headers, body: Buffer.concat(chunks) });
      return original(chunk, encoding);
    };
    listener(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`;
  endpoint.close = () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return endpoint;
}

/** The receiver kit against real signed deliveries from the router and sender. */
describe("receiver kit (real deliveries)", () => {
  let pipeline: Pipeline;
  const endpoints: KitEndpoint[] = [];

  beforeAll(async () => {
    pipeline = await startPipeline();
    await pipeline.startRouter();
    await pipeline.startSender();
  });

  afterAll(async () => {
    await Promise.all(endpoints.map((endpoint) => endpoint.close()));
    await pipeline?.close();
  });

  test("verifies both schemes on real deliveries; a replayed request is recognised as a duplicate", async () => {
    const kit = await startKitEndpoint();
    endpoints.push(kit);
    const { secret } = await pipeline.addEndpoint({ url: kit.url, eventTypes: ["kyc.*"] });
    kit.useSecrets([secret]);

    const ids = [
      await pipeline.publish({ type: "kyc.vies_check_failed", data: sampleEvent("kyc.vies_check_failed").data }),
      await pipeline.publish({ type: "kyc.verification_completed", data: sampleEvent("kyc.verification_completed").data }),
    ];
    await waitUntil(() => kit.processed.length >= 2, { what: "two processed deliveries" });
    expect(kit.processed.map((event) => event.id).sort()).toEqual([...ids].sort());
    expect(kit.rejected).toEqual([]);

    // The dispatcher may deliver an event again (at-least-once): the same request is not processed twice.
    const again = createWebhookReceiver({ secrets: [secret] });
    const [first] = kit.raw;
    let processedAgain = 0;
    expect(await again.handle(first!.headers, first!.body, () => void processedAgain++)).toMatchObject({ duplicate: false });
    expect(await again.handle(first!.headers, first!.body, () => void processedAgain++)).toMatchObject({ duplicate: true });
    expect(processedAgain).toBe(1);
  });

  test("during a secret rotation a receiver holding either secret verifies the same delivery", async () => {
    const kit = await startKitEndpoint();
    endpoints.push(kit);
    const registered = await pipeline.addEndpoint({ url: kit.url, eventTypes: ["prospect.submitted"] });
    const rotated = await pipeline.rotateEndpointSecret(registered.config, 60 * 60 * 1000);
    kit.useSecrets([rotated.secret]);
    await pipeline.publish({ type: "prospect.submitted", data: sampleEvent("prospect.submitted").data });
    await waitUntil(() => kit.processed.length >= 1, { what: "a delivery verified with the new secret" });

    const [request] = kit.raw;
    for (const secrets of [[registered.secret], [rotated.secret], [registered.secret, rotated.secret]]) {
      expect(createWebhookReceiver({ secrets }).verify(request!.headers, request!.body).type).toBe("prospect.submitted");
    }
    const stranger = `whsec_${Buffer.alloc(32, 9).toString("base64")}`;
    expect(() => createWebhookReceiver({ secrets: [stranger] }).verify(request!.headers, request!.body)).toThrow(/matches/);
  });

  test("a delivery whose processing failed is answered 500, retried by the dispatcher, and processed once", async () => {
    const kit = await startKitEndpoint((_event, call) => {
      if (call === 0) throw new Error("database briefly unavailable");
    });
    endpoints.push(kit);
    const { secret } = await pipeline.addEndpoint({ url: kit.url, eventTypes: ["export_file.generated"] });
    kit.useSecrets([secret]);
    const id = await pipeline.publish({ type: "export_file.generated", data: sampleEvent("export_file.generated").data });
    await waitUntil(() => kit.processed.length >= 1, { what: "the retried delivery processed" });
    const outcomes = await pipeline.outcomes.waitFor((list) => list.filter((outcome) => outcome.eventId === id).length >= 2, "two attempts");
    const attempts = outcomes.filter((outcome) => outcome.eventId === id);
    expect(attempts.map((outcome) => [outcome.attempt, outcome.result, outcome.statusCode])).toEqual([
      [1, "FAILED_RETRYING", 500],
      [2, "SUCCEEDED", 200],
    ]);
    expect(kit.processed.map((event) => event.id)).toEqual([id]);
  });
});

/** The node:http listener's answers, over a real loopback socket, for each kind of request. */
describe("receiver kit node:http listener", () => {
  const secret = `whsec_${Buffer.alloc(32, 5).toString("base64")}`;
  let url: string;
  let server: Server;
  const processed: string[] = [];

  beforeAll(async () => {
    const receiver = createWebhookReceiver({ secrets: [secret] });
    server = createServer(
      createNodeHttpListener(receiver, (event) => {
        if (event.type === "fail.me") throw new Error("handler failed");
        processed.push(event.id);
      }, { maxBodyBytes: 2048 }),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function signedRequest(body: string, key = secret): RequestInit {
    const t = String(Math.floor(Date.now() / 1000));
    const id = (JSON.parse(body) as { id: string }).id;
    const bytes = Buffer.from(key.slice("whsec_".length), "base64");
    const mac = (text: string) => createHmac("sha256", bytes).update(text);
    return {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "x-novatrade-signature": `t=${t},v1=${mac(`${t}.${body}`).digest("hex")}`,
        "webhook-id": id,
        "webhook-timestamp": t,
        "webhook-signature": `v1,${mac(`${id}.${t}.${body}`).digest("base64")}`,
      },
    };
  }

  const event = (id: string, type = "kyc.vies_check_failed") => JSON.stringify({ id, type, schemaVersion: 1, source: "WEB_APP", createdAt: "2026-12-01T00:00:00Z", organizationUuid: "x", partnerUuid: null, data: {} });

  test("200 once per event id, 200 with duplicate:true after that", async () => {
    const first = await fetch(url, signedRequest(event("evt_listener_1")));
    const second = await fetch(url, signedRequest(event("evt_listener_1")));
    expect([first.status, await first.json()]).toEqual([200, { received: true, duplicate: false }]);
    expect([second.status, await second.json()]).toEqual([200, { received: true, duplicate: true }]);
    expect(processed).toEqual(["evt_listener_1"]);
  });

  test("401 for a wrong secret, 400 for a signed body that is not an event, 413 for a body over the bound, 500 when the handler fails", async () => {
    const stranger = `whsec_${Buffer.alloc(32, 6).toString("base64")}`;
    const wrongSecret = await fetch(url, signedRequest(event("evt_listener_2"), stranger));
    expect([wrongSecret.status, await wrongSecret.json()]).toEqual([401, { error: "no_matching_signature" }]);
    const notAnEvent = await fetch(url, signedRequest(JSON.stringify({ id: "evt_listener_3" })));
    expect([notAnEvent.status, await notAnEvent.json()]).toEqual([400, { error: "invalid_body" }]);
    const large = await fetch(url, signedRequest(JSON.stringify({ id: "evt_listener_4", type: "kyc.vies_check_failed", pad: "x".repeat(4096) })));
    expect([large.status, await large.json()]).toEqual([413, { error: "body too large" }]);
    const failing = await fetch(url, signedRequest(event("evt_listener_5", "fail.me")));
    expect(failing.status).toBe(500);
    expect(processed).not.toContain("evt_listener_5");
    expect(processed).toEqual(["evt_listener_1"]);
  });
});
