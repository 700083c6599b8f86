import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { sampleEvent } from "@novatrade/event-codec";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { startServiceProcess, type ServiceProcess } from "../support/service-process.js";
import { waitUntil } from "../support/wait-until.js";

/**
 * Router and sender as real processes, killed with SIGKILL mid-stream and started again: every
 * event must still reach its endpoint at least once. Duplicates are allowed (at-least-once, the
 * event id is the dedupe key); the rate is printed for the record, not asserted.
 */
describe("crash recovery (router and sender processes killed mid-stream)", () => {
  let pipeline: Pipeline;
  let receiver: Receiver;
  const running: ServiceProcess[] = [];

  beforeAll(async () => {
    pipeline = await startPipeline();
    receiver = await startReceiver();
  });

  afterAll(async () => {
    await Promise.all(running.map((process) => process.kill()));
    await pipeline?.close();
    await receiver?.close();
  });

  async function start(name: "router" | "sender"): Promise<ServiceProcess> {
    const process = await startServiceProcess(name, pipeline.env);
    running.push(process);
    return process;
  }

  async function kill(process: ServiceProcess): Promise<void> {
    await process.kill();
    running.splice(running.indexOf(process), 1);
  }

  async function publishMany(count: number, ids: Set<string>): Promise<void> {
    const data = sampleEvent("compliance.decision_made").data;
    for (let sent = 0; sent < count; sent += 50) {
      const batch = Array.from({ length: Math.min(50, count - sent) }, () => pipeline.publish({ type: "compliance.decision_made", data }));
      for (const id of await Promise.all(batch)) ids.add(id);
    }
  }

  test("every event is delivered at least once across SIGKILLs of both services", async () => {
    // Registered before the services start: they read the endpoint topic at start-up.
    await pipeline.addEndpoint({ url: receiver.url, eventTypes: ["compliance.*"], maxInFlight: 20 });
    const published = new Set<string>();
    await publishMany(600, published);

    let router = await start("router");
    let sender = await start("sender");
    await waitUntil(() => receiver.requests.length >= 100, { what: "the first deliveries" });
    // Both die at once, mid-stream: nothing is committed or flushed on SIGKILL.
    await Promise.all([kill(router), kill(sender)]);
    const deliveredAtFirstKill = receiver.eventIds().size;

    // Events keep arriving while the dispatcher is down.
    await publishMany(600, published);
    router = await start("router");
    sender = await start("sender");
    await waitUntil(() => receiver.eventIds().size >= deliveredAtFirstKill + 200, { what: "deliveries after the restart" });
    await kill(sender);
    sender = await start("sender");

    await waitUntil(() => [...published].every((id) => receiver.eventIds().has(id)), {
      timeoutMs: 180_000,
      what: `all ${published.size} events delivered (have ${receiver.eventIds().size})`,
    });
    const requests = receiver.requests.length;
    const distinct = receiver.eventIds().size;
    expect(distinct).toBe(published.size);
    // Every request carries an event the producer published: nothing invented, nothing foreign.
    expect([...receiver.eventIds()].every((id) => published.has(id))).toBe(true);
    console.log(
      `crash recovery: ${published.size} events, ${requests} requests, ${requests - distinct} duplicates ` +
        `(${(((requests - distinct) / distinct) * 100).toFixed(1)}%) after 2 sender kills and 1 router kill`,
    );
  });
});
