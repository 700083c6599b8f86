import { execFile, execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, test } from "vitest";
import { sampleEvent } from "@novatrade/event-codec";
import { freePort, healthz, readyz } from "../support/ops-probe.js";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { waitUntil } from "../support/wait-until.js";

/*
 * The schema registry goes away (the real one, stopped and started again with scripts/infra.sh)
 * while the router and sender start and run. Nothing may be lost or skipped: the services wait
 * for it, say they are not ready meanwhile, and carry on alone once it is back.
 */

const INFRA = fileURLToPath(new URL("../../scripts/infra.sh", import.meta.url));
const OUTAGE_MS = 20_000;
/** Only a registry that scripts/infra.sh started can be stopped from here. */
const localRegistry = /registry: running on/.test(execFileSync(INFRA, ["status"], { encoding: "utf8" }));

async function registry(command: "registry-stop" | "registry-start"): Promise<void> {
  await promisify(execFile)(INFRA, [command], { env: process.env, timeout: 180_000 });
}

const KYC = { type: "kyc.vies_check_failed", data: sampleEvent("kyc.vies_check_failed").data } as const;

describe.skipIf(!localRegistry)("schema registry outage (real registry stopped with scripts/infra.sh)", () => {
  let pipeline: Pipeline | undefined;
  let receiver: Receiver | undefined;

  afterEach(async () => {
    await registry("registry-start");
    await receiver?.close();
    await pipeline?.close();
  });

  test(
    "router and sender started during a 20 s outage wait not-ready and recover alone; a later stop changes nothing",
    async () => {
      const ports = { router: await freePort(), sender: await freePort() };
      pipeline = await startPipeline({ env: { ROUTER_OPS_PORT: String(ports.router), SENDER_OPS_PORT: String(ports.sender) } });
      receiver = await startReceiver();
      const { config: endpoint } = await pipeline.addEndpoint({ url: receiver.url, eventTypes: ["kyc.*"] });
      // Events already waiting when the services start (this also gives the test's own producer
      // its schema id, so it can publish during the outage).
      const published = await pipeline.publishMany(5, KYC);

      await registry("registry-stop");
      const outageStarted = Date.now();
      const starting = Promise.all([pipeline.startRouter(), pipeline.startSender()]);
      starting.catch(() => undefined);
      published.push(...(await pipeline.publishMany(5, KYC)));
      const probes: Array<[number | null, number | null]> = [];
      const liveness: Array<[number | null, number | null]> = [];
      while (Date.now() - outageStarted < OUTAGE_MS) {
        probes.push([await readyz(ports.router), await readyz(ports.sender)]);
        liveness.push([await healthz(ports.router), await healthz(ports.sender)]);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      // Both answered their probes during the outage, and never with "ready".
      expect(probes.some(([router, sender]) => router === 503 && sender === 503)).toBe(true);
      expect(probes.filter(([router, sender]) => router === 200 || sender === 200)).toEqual([]);
      // Yet live all along: waiting for the registry is nothing a restart would fix.
      expect(liveness.some(([router, sender]) => router === 200 && sender === 200)).toBe(true);
      expect(liveness.filter(([router, sender]) => router === 503 || sender === 503)).toEqual([]);
      expect(receiver.requests).toHaveLength(0);

      await registry("registry-start");
      await starting;
      await waitUntil(async () => (await readyz(ports.router)) === 200 && (await readyz(ports.sender)) === 200, { what: "both services ready" });
      await waitUntil(() => published.every((id) => receiver!.eventIds().has(id)), { what: "the 10 events delivered", timeoutMs: 120_000 });
      // The test's own outcome reader learns the outcome schema while the registry is there.
      await pipeline.outcomes.waitFor((list) => list.filter((outcome) => outcome.result === "SUCCEEDED").length >= 10, "10 SUCCEEDED outcomes");

      // Mid-run, the registry goes again: with the ids cached, routing and sending go on.
      await registry("registry-stop");
      const later = await pipeline.publishMany(5, KYC);
      await waitUntil(() => later.every((id) => receiver!.eventIds().has(id)), { what: "5 events delivered with the registry down", timeoutMs: 120_000 });
      await pipeline.outcomes.waitFor(
        (list) => list.filter((outcome) => outcome.endpointId === endpoint.endpointId && outcome.result === "SUCCEEDED").length >= 15,
        "15 SUCCEEDED outcomes",
      );
      expect([await readyz(ports.router), await readyz(ports.sender)]).toEqual([200, 200]);
      expect(pipeline.outcomes.records.filter((outcome) => outcome.result !== "SUCCEEDED")).toEqual([]);
      expect(pipeline.deadLetters.records).toEqual([]);
    },
    360_000,
  );
});
