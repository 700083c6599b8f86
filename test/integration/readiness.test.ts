import { afterEach, describe, expect, test } from "vitest";
import { freePort, healthz, readyz } from "../support/ops-probe.js";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { waitUntil } from "../support/wait-until.js";

/*
 * `/readyz` of the router and sender covers every consumer they run, the endpoint view's
 * included: a service whose endpoint view stopped reading routes and sends against a view that
 * no longer changes, and must say so. `/healthz` (liveness) answers 200 meanwhile.
 */

describe("readiness covers every consumer", () => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
  });

  test("router and sender report not ready once their endpoint view's consumer is gone", async () => {
    const ports = { router: await freePort(), sender: await freePort() };
    pipeline = await startPipeline({ env: { ROUTER_OPS_PORT: String(ports.router), SENDER_OPS_PORT: String(ports.sender) } });
    const router = await pipeline.startRouter();
    const sender = await pipeline.startSender();
    await waitUntil(async () => (await readyz(ports.router)) === 200 && (await readyz(ports.sender)) === 200, { what: "both services ready" });
    expect([await healthz(ports.router), await healthz(ports.sender)]).toEqual([200, 200]);

    // The view's consumer leaves while the services' own consumers run on.
    await router.directory.stop();
    await sender.directory.stop();
    expect(router.service.isReady()).toBe(true);
    expect(sender.service.isReady()).toBe(true);
    expect([await readyz(ports.router), await readyz(ports.sender)]).toEqual([503, 503]);
    expect([await healthz(ports.router), await healthz(ports.sender)]).toEqual([200, 200]);
  });
});
