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
