import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { errors as undiciErrors } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { BlockedAddressError, classifyError, createHttpDelivery, type AttemptErrorClass, type HttpDelivery, type HttpDeliveryConfig } from "./http-delivery.js";

function coded(code: string, message = code, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { code }, extra);
}

function named(name: string): Error {
  const error = new Error(name);
  error.name = name;
  return error;
}

/** fetch-style wrapping: the interesting error sits a level or two down the cause chain. */
function wrapped(cause: unknown, depth = 1): Error {
  let error = cause;
  for (let level = 0; level < depth; level++) error = new TypeError("fetch failed", { cause: error });
  return error as Error;
}

describe("classifyError", () => {
  test.each<[string, unknown, AttemptErrorClass]>([
    ["undici connect timeout", new undiciErrors.ConnectTimeoutError(), "timeout"],
    ["undici headers timeout", new undiciErrors.HeadersTimeoutError(), "timeout"],
    ["undici body timeout", new undiciErrors.BodyTimeoutError(), "timeout"],
    ["AbortSignal.timeout() reason", new DOMException("The operation was aborted due to timeout", "TimeoutError"), "timeout"],
    ["an abort", named("AbortError"), "timeout"],
    ["ETIMEDOUT", coded("ETIMEDOUT"), "timeout"],
    ["ENOTFOUND", coded("ENOTFOUND"), "dns"],
    ["EAI_AGAIN", coded("EAI_AGAIN"), "dns"],
    ["a certificate error", coded("CERT_HAS_EXPIRED"), "tls"],
    ["a self-signed certificate", coded("DEPTH_ZERO_SELF_SIGNED_CERT"), "tls"],
    ["a host name mismatch", coded("ERR_TLS_CERT_ALTNAME_INVALID"), "tls"],
    ["an unknown issuer", coded("UNABLE_TO_VERIFY_LEAF_SIGNATURE"), "tls"],
    ["ECONNREFUSED", coded("ECONNREFUSED"), "connect"],
    ["ECONNRESET", coded("ECONNRESET"), "connect"],
    ["EHOSTUNREACH", coded("EHOSTUNREACH"), "connect"],
    ["undici socket error", new undiciErrors.SocketError("other side closed"), "connect"],
    ["undici closed client", new undiciErrors.ClientClosedError(), "connect"],
    ["the SSRF guard's error", new BlockedAddressError("metadata.internal", ["169.254.169.254"]), "blocked_address"],
    ["the guard's error code alone", coded("ERR_BLOCKED_ADDRESS"), "blocked_address"],
    ["a plain Error", new Error("something"), "other"],
    ["an unknown code", coded("EWHATEVER"), "other"],
    ["a string", "boom", "other"],
    ["null", null, "other"],
  ])("%s → %s", (_name, error, expected) => {
    expect(classifyError(error)).toBe(expected);
  });

  test.each<[string, unknown, AttemptErrorClass]>([
    ["ECONNREFUSED under fetch failed", wrapped(coded("ECONNREFUSED")), "connect"],
    ["a TLS error two levels down", wrapped(coded("CERT_HAS_EXPIRED"), 2), "tls"],
    ["the guard's error under a connect error", wrapped(new BlockedAddressError("localhost", ["127.0.0.1"])), "blocked_address"],
    // The guard wins over whatever code the layer above put on its wrapper.
    ["the guard's error under a coded wrapper", coded("ECONNREFUSED", "refused", { cause: new BlockedAddressError("x", ["10.0.0.1"]) }), "blocked_address"],
  ])("looks down the cause chain: %s → %s", (_name, error, expected) => {
    expect(classifyError(error)).toBe(expected);
  });
});

/** What a loopback test server does with one request. */
type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

describe("createHttpDelivery against a loopback server", () => {
  let server: Server;
  let origin: string;
  let handler: Handler;
  const received: Array<{ method: string; url: string; headers: IncomingMessage["headers"]; body: string }> = [];
  const clients: HttpDelivery[] = [];

  const baseConfig: HttpDeliveryConfig = {
    connectTimeoutMs: 1_000,
    totalTimeoutMs: 2_000,
    maxResponseBytes: 64,
    connectionsPerOrigin: 4,
    userAgent: "Novatrade-Webhooks/test",
    allowLoopback: true,
    allowPrivateNetworks: false,
    allowHttp: true,
  };

  function client(overrides: Partial<HttpDeliveryConfig> = {}): HttpDelivery {
    const delivery = createHttpDelivery({ ...baseConfig, ...overrides });
    clients.push(delivery);
    return delivery;
  }

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
        handler(req, res, body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((delivery) => delivery.close()));
    server.closeAllConnections();
    received.length = 0;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test("a 2xx is a success: the exact body and headers go out, the response body comes back", async () => {
    handler = (_req, res) => res.writeHead(202).end("accepted");
    const body = '{"id":"evt_0123456789ab","data":{"note":"é ✓"}}';
    const result = await client().post(`${origin}/hooks?x=1`, { "X-Novatrade-Attempt": "3" }, body);

    expect(result).toMatchObject({ ok: true, statusCode: 202, responseBody: "accepted" });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request).toMatchObject({ method: "POST", url: "/hooks?x=1", body });
    expect(request!.headers).toMatchObject({
      "content-type": "application/json",
      "user-agent": "Novatrade-Webhooks/test",
      "x-novatrade-attempt": "3",
    });
  });

  test("a 5xx and a 4xx are failed attempts with the status and the response kept", async () => {
    handler = (req, res) => res.writeHead(req.url === "/gone" ? 410 : 503).end("try later");
    const delivery = client();
    expect(await delivery.post(`${origin}/busy`, {}, "{}")).toMatchObject({ ok: false, errorClass: "http_status", statusCode: 503, responseBody: "try later" });
    expect(await delivery.post(`${origin}/gone`, {}, "{}")).toMatchObject({ ok: false, errorClass: "http_status", statusCode: 410 });
  });

  test("a redirect is a failed attempt and is not followed", async () => {
    handler = (_req, res) => res.writeHead(302, { location: `${origin}/elsewhere` }).end();
    const result = await client().post(`${origin}/hooks`, {}, "{}");

    expect(result).toMatchObject({ ok: false, errorClass: "http_status", statusCode: 302 });
    expect(received.map((request) => request.url)).toEqual(["/hooks"]);
  });

  test("only maxResponseBytes of a large response are kept", async () => {
    handler = (_req, res) => {
      res.writeHead(500);
      // Several chunks, most of which must be dropped.
      for (let index = 0; index < 64; index++) res.write("x".repeat(1024));
      res.end();
    };
    const result = await client({ maxResponseBytes: 100 }).post(`${origin}/hooks`, {}, "{}");

    expect(result).toMatchObject({ ok: false, statusCode: 500 });
    expect(result.responseBody).toBe("x".repeat(100));
  });

  test("a receiver that never answers times out within totalTimeoutMs", async () => {
    handler = () => undefined; // holds the response until the connection is closed
    const result = await client({ totalTimeoutMs: 200 }).post(`${origin}/hooks`, {}, "{}");

    expect(result).toMatchObject({ ok: false, errorClass: "timeout", statusCode: null, responseBody: null });
  });

  test("a receiver that sends headers then stalls the body times out too", async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.write("partial");
    };
    const result = await client({ totalTimeoutMs: 200 }).post(`${origin}/hooks`, {}, "{}");

    expect(result).toMatchObject({ ok: false, errorClass: "timeout" });
  });

  test("a connection dropped before an answer is a connect failure", async () => {
    handler = (req) => req.socket.destroy();
    const result = await client().post(`${origin}/hooks`, {}, "{}");

    expect(result).toMatchObject({ ok: false, errorClass: "connect", statusCode: null });
  });

  test("nothing listening is a connect failure", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const result = await client().post(`http://127.0.0.1:${port}/hooks`, {}, "{}");
    expect(result).toMatchObject({ ok: false, errorClass: "connect" });
  });

  test.each([
    ["a literal loopback IPv4 address", () => `${origin}/hooks`],
    ["a loopback name, refused at connect time after DNS", () => `${origin.replace("127.0.0.1", "localhost")}/hooks`],
    ["a literal loopback IPv6 address", () => "http://[::1]:9/hooks"],
    ["the cloud metadata address", () => "http://169.254.169.254/latest/meta-data/"],
    ["a private network address", () => "http://10.0.0.1/hooks"],
  ])("loopback not allowed: %s is blocked and never connected to", async (_name, url) => {
    handler = (_req, res) => res.writeHead(200).end("ok");
    const result = await client({ allowLoopback: false }).post(url(), {}, "{}");

    expect(result).toMatchObject({ ok: false, errorClass: "blocked_address", statusCode: null });
    expect(received).toHaveLength(0);
  });

  test("the connect-time lookup lets a loopback name through when loopback is allowed", async () => {
    handler = (_req, res) => res.writeHead(200).end("ok");
    const result = await client({ allowLoopback: true }).post(`${origin.replace("127.0.0.1", "localhost")}/hooks`, {}, "{}");

    expect(result).toMatchObject({ ok: true, statusCode: 200 });
    expect(received).toHaveLength(1);
  });

  test("the metadata address stays blocked even when loopback and private networks are allowed", async () => {
    const result = await client({ allowLoopback: true, allowPrivateNetworks: true }).post("http://169.254.169.254/latest/meta-data/", {}, "{}");
    expect(result).toMatchObject({ ok: false, errorClass: "blocked_address" });
  });

  test.each([
    ["plain http when only https is allowed", `http://127.0.0.1:9/hooks`, { allowHttp: false }],
    ["a URL that does not parse", "not a url", {}],
    ["another scheme", "ftp://127.0.0.1/hooks", {}],
  ])("%s is an invalid_url failure", async (_name, url, overrides) => {
    const result = await client(overrides).post(url, {}, "{}");
    expect(result).toMatchObject({ ok: false, errorClass: "invalid_url", statusCode: null });
  });

  /** Resolves once the server has received `count` requests in all. */
  async function receivedCount(count: number): Promise<void> {
    while (received.length < count) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  test("waiting for a pooled connection does not spend the attempt's time: the timeout starts once it has one", async () => {
    // One connection, so the second attempt waits for the first. The timeline (T = the attempt
    // timeout): the first is answered at ~0.6 T, the second then gets the connection and is
    // answered ~0.6 T later, at ~1.2 T after it was asked for but ~0.6 T into its own attempt.
    const timeoutMs = 5_000; // 2 s of margin for a loaded machine on each side of the check
    const held: ServerResponse[] = [];
    handler = (_req, res) => void held.push(res);
    const delivery = client({ connectionsPerOrigin: 1, totalTimeoutMs: timeoutMs });
    const first = delivery.post(`${origin}/first`, {}, "{}");
    const second = delivery.post(`${origin}/second`, {}, "{}");

    await receivedCount(1);
    await new Promise((resolve) => setTimeout(resolve, 0.6 * timeoutMs));
    held.shift()!.writeHead(200).end("ok");
    expect(await first).toMatchObject({ ok: true });

    await receivedCount(2);
    await new Promise((resolve) => setTimeout(resolve, 0.6 * timeoutMs));
    held.shift()!.writeHead(200).end("ok");
    expect(await second).toMatchObject({ ok: true, statusCode: 200 });
    expect(received.map((request) => request.url)).toEqual(["/first", "/second"]);
    // 1.2 T of real time by design: beyond the unit tier's default 5 s on a loaded machine.
  }, 30_000);

  test("each endpoint has its own pool of maxInFlight connections: one endpoint's open attempts never hold another's on the same host", async () => {
    const held: ServerResponse[] = [];
    handler = (req, res) => (req.url === "/stuck" ? void held.push(res) : void res.writeHead(200).end("ok"));
    // A shared pool of one connection per host would make the healthy endpoint wait for the stuck one.
    const delivery = client({ connectionsPerOrigin: 1, totalTimeoutMs: 60_000 });
    const stuck = [1, 2].map(() => delivery.post(`${origin}/stuck`, {}, "{}", { poolKey: "ep_stuck", connections: 2 }));
    await receivedCount(2);

    const healthy = await delivery.post(`${origin}/healthy`, {}, "{}", { poolKey: "ep_healthy", connections: 2 });
    expect(healthy).toMatchObject({ ok: true, statusCode: 200 });
    // Both stuck attempts were still open while the healthy one went through.
    expect(held).toHaveLength(2);
    for (const res of held) res.writeHead(200).end("ok");
    expect(await Promise.all(stuck)).toMatchObject([{ ok: true }, { ok: true }]);
  });
});
