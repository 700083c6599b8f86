import { afterEach, describe, expect, test } from "vitest";
import { freePort, healthz } from "../support/ops-probe.js";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { waitUntil } from "../support/wait-until.js";

/*
 * `/healthz` of the router and sender covers every consumer they run, the endpoint view's
 * included: a service whose endpoint view stopped reading routes and sends against a view that
 * no longer changes, and must say so.
 */

describe("readiness covers every consumer", () => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
  });

  test("router and sender report unhealthy once their endpoint view's consumer is gone", async () => {
    const ports = { router: await freePort(), sender: await freePort() };
    pipeline = await startPipeline({ env: { ROUTER_OPS_PORT: String(ports.router), SENDER_OPS_PORT: String(ports.sender) } });
    const router = await pipeline.startRouter();
    const sender = await pipeline.startSender();
    await waitUntil(async () => (await healthz(ports.router)) === 200 && (await healthz(ports.sender)) === 200, { what: "both services ready" });

    // The view's consumer leaves while the services' own consumers run on.
    await router.directory.stop();
    await sender.directory.stop();
    expect(router.service.isHealthy()).toBe(true);
    expect(sender.service.isHealthy()).toBe(true);
    expect([await healthz(ports.router), await healthz(ports.sender)]).toEqual([503, 503]);
  });
});
