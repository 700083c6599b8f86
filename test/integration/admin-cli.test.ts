import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { deliveryId as liveDeliveryId } from "@novatrade/domain";
import { adminEnv, organizationKey, startTestAdmin, type TestAdmin, VIES } from "../support/admin.js";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { dropSchema, newSchemaName } from "../support/projector.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { runCli } from "../support/run-cli.js";
import { waitUntil } from "../support/wait-until.js";

/*
 * The compiled ops CLI against a running admin service (real broker, registry, PostgreSQL and a
 * loopback receiver): endpoint commands, its exit codes, and a replay followed to its end with a
 * progress bar.
 */

const CLI = "packages/ops-cli/dist/cli.js";
const ORG = "0a0a0a0a-4444-4222-8333-444455556666";

let pipeline: Pipeline;
let admin: TestAdmin;
let receiver: Receiver;
const schema = newSchemaName();
let env: Record<string, string>;

beforeAll(async () => {
  pipeline = await startPipeline();
  await pipeline.startRouter();
  await pipeline.startSender();
  admin = await startTestAdmin(adminEnv(pipeline, schema));
  receiver = await startReceiver();
  const { key } = await organizationKey(admin.url, ORG);
  env = { NOVATRADE_ADMIN_URL: admin.url, NOVATRADE_API_KEY: key };
});

afterAll(async () => {
  await admin?.stop();
  await receiver?.close();
  await pipeline?.close();
  await dropSchema(schema);
});

describe("ops CLI", () => {
  test("manages endpoints through the admin API; bad input exits 2 naming the field and creates nothing; an unreachable admin exits 1", async () => {
    const created = await runCli(CLI, ["endpoints", "create", "--url", receiver.url, "--types", "kyc.*"], env);
    expect(created.code, created.stderr).toBe(0);
    const endpoint = JSON.parse(created.stdout);
    expect(endpoint.secret).toMatch(/^whsec_/);

    const bad = await runCli(CLI, ["endpoints", "create", "--url", receiver.url, "--types", "*"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("field: eventTypes");
    const listed = await runCli(CLI, ["endpoints", "list"], env);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).data.map((e: { endpointId: string }) => e.endpointId)).toEqual([endpoint.endpointId]);

    const paused = await runCli(CLI, ["endpoints", "pause", endpoint.endpointId], env);
    expect(JSON.parse(paused.stdout).status).toBe("PAUSED");
    const resumed = await runCli(CLI, ["endpoints", "resume", endpoint.endpointId], env);
    expect(JSON.parse(resumed.stdout).status).toBe("ACTIVE");

    const unreachable = await runCli(CLI, ["endpoints", "list"], { ...env, NOVATRADE_ADMIN_URL: "http://127.0.0.1:9" });
    expect(unreachable.code).toBe(1);
    const noKey = await runCli(CLI, ["endpoints", "list"], { ...env, NOVATRADE_API_KEY: "" });
    expect(noKey.code).toBe(2);
  });

  test("replay of a time range shows its progress and ends with the counts", async () => {
    const created = JSON.parse((await runCli(CLI, ["endpoints", "create", "--url", receiver.url, "--types", "kyc.*"], env)).stdout);
    const endpointId: string = created.endpointId;
    await waitUntil(() => pipeline.router?.directory.get(endpointId) && pipeline.sender?.directory.get(endpointId), { what: "services to see the endpoint" });
    const from = new Date().toISOString();
    const events = await Promise.all(Array.from({ length: 6 }, () => pipeline.publish({ type: "kyc.vies_check_failed", organizationUuid: ORG, data: VIES })));
    await waitUntil(() => events.every((id) => receiver.eventIds().has(id)), { what: "the live deliveries" });
    const to = new Date(Date.now() + 1).toISOString();
    await waitUntil(() => Date.now() > Date.parse(to), { what: "the clock to pass the end" });

    const result = await runCli(CLI, ["--poll-ms", "100", "replay", "range", "--endpoint", endpointId, "--from", from, "--to", to], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/replay rpl_[0-9a-f]+ \|[^|]*\| 6\/6 scanned, 6 re-queued, succeeded/);
    expect(result.stderr).toMatch(/replay rpl_[0-9a-f]+ succeeded: scanned 6 of 6, re-queued 6/);
    expect(JSON.parse(result.stdout)).toMatchObject({ state: "succeeded", total: 6, scanned: 6, requeued: 6 });
    await waitUntil(
      () => receiver.requests.filter((request) => request.headers["x-novatrade-delivery-id"] !== liveDeliveryId(request.json.id, endpointId)).length >= 6,
      { what: "the six replays" },
    );
  });
});
