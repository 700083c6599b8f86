import { spawn, execFile, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, test } from "vitest";
import { deliveryId, EVENT_TYPES, isMetaEventType, selectMatchingEndpoints, topicNames, type EndpointSubscription, type EventType } from "@novatrade/domain";
import { sampleEvent, toWireFormat, type DeadLetterRecord } from "@novatrade/event-codec";
import type { OutgoingMessage } from "@novatrade/kafka";
import { startPipeline, type Pipeline } from "../test/support/pipeline.js";
import { dropSchema, newSchemaName, openDatabase, projectorEnv } from "../test/support/projector.js";
import { startServiceProcess, type ServiceProcess } from "../test/support/service-process.js";
import { waitUntil } from "../test/support/wait-until.js";
import { planFaults, type PlannedFault } from "./fault-plan.js";

/*
 * `make chaos`: the whole dispatcher (router, sender, projector as real processes) on the local
 * Kafka cluster, under load, with services killed, brokers killed and restarted, the registry
 * and PostgreSQL stopped, and malformed records mixed into the domain topic. Then the
 * receivers' own records (a separate process) are checked against what should have arrived.
 * CHAOS_PROFILE=short is the version `make test` runs (fewer events, shorter outages).
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PROFILE = process.env.CHAOS_PROFILE === "short" ? "short" : "full";
const SHORT = PROFILE === "short";
const EVENTS = Number(process.env.CHAOS_EVENTS ?? (SHORT ? 1_500 : 50_000));
const MALFORMED = Number(process.env.CHAOS_MALFORMED ?? (SHORT ? 200 : 10_000));
const ORGANIZATIONS = 4;
const FAIL_RATIO = 0.3;
const SLOW_RATIO = 0.02;
const SLOW_MS = 1_500;
const API_SOURCE_RATIO = 0.05;
const CLUSTER = (process.env.KAFKA_BROKERS ?? "").split(",").length >= 3;
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
// make test points this at its own results folder, so a test run leaves the committed results alone.
const RESULTS = process.env.CHAOS_RESULTS_DIR ?? path.join(root, "chaos", "results");

// Subscriptions of each organization's six endpoints: exact types, domain wildcards, overlaps.
const SUBSCRIPTIONS: string[][] = [
  ["compliance.*"],
  ["kyc.*"],
  ["compliance.status_changed", "kyc.vies_check_failed"],
  ["export_file.*", "prospect.*"],
  ["self_service_invitation.*"],
  ["compliance.*", "kyc.*", "export_file.*", "prospect.*", "self_service_invitation.*"],
];
const DOMAIN_TYPES = EVENT_TYPES.filter((type) => !isMetaEventType(type));

interface ReceivedLine {
  e: string;
  id: string | null;
  org: string | null;
  source: string | null;
  ok: boolean;
  status: number;
  t: number;
}

/** The receiver fleet's records file, read incrementally as it grows. */
class ReceivedRecords {
  private offset = 0;
  private rest = "";
  readonly lines: ReceivedLine[] = [];
  /** `${endpointId} ${eventId}` → requests received. */
  readonly pairs = new Map<string, { requests: number; succeeded: boolean; firstAt: number }>();

  constructor(private readonly file: string) {}

  refresh(): void {
    if (!existsSync(this.file)) return;
    const size = statSync(this.file).size;
    if (size <= this.offset) return;
    const fd = openSync(this.file, "r");
    try {
      const buffer = Buffer.alloc(size - this.offset);
      readSync(fd, buffer, 0, buffer.length, this.offset);
      this.offset = size;
      const text = this.rest + buffer.toString("utf8");
      const parts = text.split("\n");
      this.rest = parts.pop() ?? "";
      for (const part of parts) {
        if (!part) continue;
        const line = JSON.parse(part) as ReceivedLine;
        this.lines.push(line);
        const key = `${line.e} ${line.id}`;
        const pair = this.pairs.get(key) ?? { requests: 0, succeeded: false, firstAt: line.t };
        pair.requests += 1;
        pair.succeeded ||= line.status === 200;
        this.pairs.set(key, pair);
      }
    } finally {
      closeSync(fd);
    }
  }
}

interface FaultResult extends PlannedFault {
  startedAt: number;
  endedAt: number;
  /** From the fault's end until a probe event produced then reached its receiver. */
  deliveredAfterMs: number;
  /** … and until the probe's delivery was in the history as SUCCEEDED. */
  projectedAfterMs: number;
  notes: string[];
}

const infraScript = path.join(root, "scripts", "infra.sh");
async function infra(...args: string[]): Promise<void> {
  await promisify(execFile)(infraScript, args, { env: process.env, timeout: 240_000 });
}

describe(`chaos (${PROFILE})`, () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  test("every (event, endpoint) pair is received, signed, by the right endpoint only, and the history tells the truth", async () => {
    const startedAt = Date.now();
    const timeline: string[] = [];
    const note = (line: string) => {
      const stamped = `${((Date.now() - startedAt) / 1000).toFixed(1).padStart(7)} s  ${line}`;
      timeline.push(stamped);
      console.log(`[chaos] ${stamped}`);
    };
    note(`profile ${PROFILE}, seed ${SEED}, ${EVENTS} events, ${MALFORMED} malformed, brokers ${process.env.KAFKA_BROKERS}`);

    const pipeline: Pipeline = await startPipeline({
      retrySchedule: "1s,1s,2s,2s,3s,3s,5s,5s,5s",
      httpTimeoutMs: 5_000,
      env: { SENDER_GLOBAL_MAX_IN_FLIGHT: "200", TOPIC_PARTITIONS: "6" },
    });
    cleanups.push(() => pipeline.close());
    // The dead-letter topic, read by a consumer of the run's own that retries what it cannot
    // decode yet (the pipeline's recorder skips it: during the registry outage that loses some).
    const deadLetters: DeadLetterRecord[] = [];
    const deadLetterReader = pipeline.kafka.createConsumer({ groupId: `${pipeline.prefix}chaos-dead-letters`, topics: [topicNames(pipeline.naming).deadLetter], fromBeginning: true });
    await deadLetterReader.run({
      eachMessage: async (message) => {
        if (message.value) deadLetters.push(await pipeline.records.decode("dead-letter", message.value));
      },
    });
    cleanups.push(() => deadLetterReader.disconnect());
    const schema = newSchemaName();
    const db = openDatabase(schema);
    cleanups.push(async () => {
      await db.destroy();
      await dropSchema(schema);
    });

    // Endpoints: ORGANIZATIONS × 6 that fail 30 % at random and are sometimes slow, plus one
    // probe endpoint that always answers at once, used to time recovery after each fault.
    const organizations = Array.from({ length: ORGANIZATIONS }, () => randomUUID());
    const probeOrganization = randomUUID();
    const fleetDir = path.join(os.tmpdir(), `chaos-${randomUUID().slice(0, 8)}`);
    mkdirSync(fleetDir, { recursive: true });
    const recordsFile = path.join(fleetDir, "received.jsonl");
    const fleetConfig: { endpoints: Record<string, { secret: string; failRatio: number; slowRatio: number; slowMs: number }> } = { endpoints: {} };
    const endpoints: Array<EndpointSubscription & { probe: boolean }> = [];
    // Each endpoint is a path of the fleet, /ep/<name>; the fleet records the name.
    const nameOf = new Map<string, string>();
    const fleet = await startFleet(fleetDir, recordsFile, fleetConfig, async (baseUrl) => {
      for (const [index, organizationUuid] of [...organizations, probeOrganization].entries()) {
        const probe = organizationUuid === probeOrganization;
        for (const [slot, eventTypes] of (probe ? [["compliance.*"]] : SUBSCRIPTIONS).entries()) {
          const name = probe ? "probe" : `o${index}-e${slot}`;
          const { config, secret } = await pipeline.addEndpoint({ organizationUuid, url: `${baseUrl}/ep/${name}`, eventTypes, maxInFlight: 20 });
          fleetConfig.endpoints[name] = { secret, failRatio: probe ? 0 : FAIL_RATIO, slowRatio: probe ? 0 : SLOW_RATIO, slowMs: SLOW_MS };
          nameOf.set(config.endpointId, name);
          endpoints.push({ ...config, probe });
        }
      }
    });
    cleanups.push(() => fleet.stop());
    const received = new ReceivedRecords(recordsFile);
    note(`${endpoints.length} endpoints in ${ORGANIZATIONS + 1} organizations; receivers at ${fleet.baseUrl}`);

    // Services as processes, restarted like a supervisor would when they exit on their own.
    const services = new Map<string, ServiceProcess>();
    // Every process started, for its log lines afterwards (chaos/results/logs/, not committed).
    const started: ServiceProcess[] = [];
    const writeLogs = () => {
      const logs = path.join(RESULTS, "logs");
      mkdirSync(logs, { recursive: true });
      started.forEach((service, index) => writeFileSync(path.join(logs, `${String(index).padStart(2, "0")}-${service.name}.log`), service.output.join("\n") + "\n"));
    };
    // Written as the run goes too, so a run that hangs can be read while it hangs.
    const logTimer = setInterval(writeLogs, 10_000);
    cleanups.push(async () => {
      clearInterval(logTimer);
      writeLogs();
    });
    const envs: Record<string, Record<string, string>> = {
      router: pipeline.env,
      sender: pipeline.env,
      projector: projectorEnv(pipeline, schema, { PROJECTOR_OPS_PORT: "0" }),
    };
    async function startService(name: string): Promise<void> {
      for (let tries = 1; ; tries++) {
        try {
          const service = await startServiceProcess(name, envs[name]!, 240_000);
          services.set(name, service);
          started.push(service);
          return;
        } catch (error) {
          note(`${name} did not start (try ${tries}): ${String(error).split("\n")[0]}`);
          if (tries >= 5) throw error;
        }
      }
    }
    cleanups.push(async () => {
      for (const service of services.values()) await service.kill();
    });
    for (const name of ["router", "sender", "projector"]) await startService(name);
    note("router, sender and projector started");

    // Load: events paced over the fault window, malformed records interleaved.
    const expected = new Map<string, { eventId: string; endpointId: string; organizationUuid: string }>();
    const apiEventIds = new Set<string>();
    const malformedValues = new Set<string>();
    let produced = 0;
    let malformedProduced = 0;
    const chunk = SHORT ? 100 : 250;
    async function produceChunk(count: number, malformedCount: number): Promise<void> {
      const messages: OutgoingMessage[] = [];
      for (let i = 0; i < count; i++) {
        const organizationUuid = organizations[(produced + i) % ORGANIZATIONS]!;
        const type = DOMAIN_TYPES[Math.floor(Math.random() * DOMAIN_TYPES.length)] as EventType;
        const source = Math.random() < API_SOURCE_RATIO ? "API" : Math.random() < 0.5 ? "WEB_APP" : "SYSTEM";
        const prepared = await pipeline.events.prepare({ type, data: sampleEvent(type).data as Record<string, unknown>, organizationUuid, source, partnerUuid: null });
        messages.push({ key: prepared.key, value: prepared.value, headers: prepared.headers });
        if (source === "API") apiEventIds.add(prepared.envelope.id);
        for (const endpoint of selectMatchingEndpoints(endpoints, prepared.envelope)) {
          expected.set(`${nameOf.get(endpoint.endpointId)} ${prepared.envelope.id}`, { eventId: prepared.envelope.id, endpointId: endpoint.endpointId, organizationUuid });
        }
      }
      for (let i = 0; i < malformedCount; i++) {
        const value = await malformedRecord(pipeline, malformedProduced + i);
        malformedValues.add(value.toString("hex"));
        // Interleaved with the valid events of the same organization (same key, same partition).
        messages.splice(Math.floor(Math.random() * (messages.length + 1)), 0, { key: organizations[i % ORGANIZATIONS]!, value });
      }
      await sendWithRetry(pipeline, messages, note);
      produced += count;
      malformedProduced += malformedCount;
    }

    async function probe(): Promise<{ deliveredMs: number; projectedMs: number }> {
      const begin = Date.now();
      const probeEndpoint = endpoints.find((endpoint) => endpoint.probe)!;
      const prepared = await pipeline.events.prepare({ type: "compliance.status_changed", data: sampleEvent("compliance.status_changed").data as Record<string, unknown>, organizationUuid: probeOrganization, source: "WEB_APP", partnerUuid: null });
      await sendWithRetry(pipeline, [{ key: prepared.key, value: prepared.value, headers: prepared.headers }], note);
      const key = `probe ${prepared.envelope.id}`;
      expected.set(key, { eventId: prepared.envelope.id, endpointId: probeEndpoint.endpointId, organizationUuid: probeOrganization });
      await waitUntil(() => (received.refresh(), received.pairs.get(key)?.succeeded === true), { what: `probe ${prepared.envelope.id} delivered`, timeoutMs: 600_000, intervalMs: 100 });
      const deliveredMs = Date.now() - begin;
      const id = deliveryId(prepared.envelope.id, probeEndpoint.endpointId);
      await waitUntil(async () => (await db("deliveries").where({ delivery_id: id, status: "SUCCEEDED" }).first().catch(() => undefined)) !== undefined, {
        what: `probe ${prepared.envelope.id} projected`,
        timeoutMs: 600_000,
        intervalMs: 200,
      });
      return { deliveredMs, projectedMs: Date.now() - begin };
    }

    const baseline = await probe();
    note(`baseline probe: delivered after ${baseline.deliveredMs} ms, projected after ${baseline.projectedMs} ms`);

    // Faults, one after another at random moments, while the load keeps coming.
    const plan = planFaults({ short: SHORT, cluster: CLUSTER, seed: SEED });
    const chunksTotal = Math.ceil(EVENTS / chunk);
    const malformedPerChunk = Math.ceil(MALFORMED / chunksTotal);
    let chunksDone = 0;
    const loadPerFault = Math.ceil(chunksTotal / (plan.length + 1));
    const faults: FaultResult[] = [];
    const produceSome = async (chunks: number) => {
      for (let i = 0; i < chunks && chunksDone < chunksTotal; i++, chunksDone++) {
        const count = Math.min(chunk, EVENTS - produced);
        await produceChunk(count, Math.min(malformedPerChunk, MALFORMED - malformedProduced));
      }
    };
    for (const planned of plan) {
      await produceSome(Math.floor(loadPerFault / 2));
      const result: FaultResult = { ...planned, startedAt: Date.now(), endedAt: 0, deliveredAfterMs: 0, projectedAfterMs: 0, notes: [] };
      note(`fault: ${describeFault(planned)}`);
      // Load continues during the fault (in the background: a produce may wait for the cluster).
      const during = produceSome(Math.ceil(loadPerFault / 2));
      await inject(planned, { services, startService, note });
      result.endedAt = Date.now();
      await during;
      const recovered = await probe();
      result.deliveredAfterMs = recovered.deliveredMs;
      result.projectedAfterMs = recovered.projectedMs;
      note(`recovered from ${planned.kind}: probe delivered after ${recovered.deliveredMs} ms, projected after ${recovered.projectedMs} ms`);
      faults.push(result);
    }
    await produceSome(chunksTotal);
    note(`produced ${produced} events (${apiEventIds.size} API-sourced) and ${malformedProduced} malformed records; ${expected.size} pairs expected`);

    // Drain: every expected pair received, then settled in the history, every malformed record dead-lettered.
    const drainStart = Date.now();
    await waitUntil(
      () => {
        received.refresh();
        for (const key of expected.keys()) if (!received.pairs.has(key)) return false;
        return true;
      },
      { what: "every expected pair received", timeoutMs: Number(process.env.CHAOS_DRAIN_TIMEOUT_MS ?? 1_200_000), intervalMs: 2_000 },
    ).catch((error: unknown) => note(`drain: ${String(error).split("\n")[0]}`));
    note(`drained in ${((Date.now() - drainStart) / 1000).toFixed(1)} s`);
    const settledIds = () => db("deliveries").whereIn("status", ["SUCCEEDED", "FAILED_TERMINAL", "SKIPPED"]).whereNull("replay_id").count({ n: "*" });
    await waitUntil(async () => Number((await settledIds())[0]!.n) >= expected.size, { what: "every delivery settled in the history", timeoutMs: 600_000, intervalMs: 2_000 }).catch((error: unknown) =>
      note(`history: ${String(error).split("\n")[0]}`),
    );
    await waitUntil(() => countDeadLettered(deadLetters, malformedValues) >= malformedValues.size, {
      what: "every malformed record dead-lettered",
      timeoutMs: 300_000,
      intervalMs: 2_000,
    }).catch((error: unknown) => note(`dead letters: ${String(error).split("\n")[0]}`));
    received.refresh();

    // The check, against the receivers' own records.
    const lost = [...expected.keys()].filter((key) => !received.pairs.has(key));
    const endpointByName = new Map(endpoints.map((endpoint) => [nameOf.get(endpoint.endpointId)!, endpoint]));
    const unsigned = received.lines.filter((line) => !line.ok);
    // Bodies without an event id are not ours to judge (nothing is expected to send them).
    const wrongPlace = received.lines.filter((line) => line.id !== null && !expected.has(`${line.e} ${line.id}`));
    const wrongOrganization = received.lines.filter((line) => line.org !== null && endpointByName.get(line.e)?.organizationUuid !== line.org);
    const apiDelivered = received.lines.filter((line) => line.id !== null && apiEventIds.has(line.id));
    const history = new Map<string, { status: string; attempts: number }>();
    for (let i = 0; i < expected.size; i += 5_000) {
      const ids = [...expected.values()].slice(i, i + 5_000).map((pair) => deliveryId(pair.eventId, pair.endpointId));
      for (const row of await db("deliveries").whereIn("delivery_id", ids).whereNull("replay_id").select("delivery_id", "status", "attempts")) {
        history.set(row.delivery_id as string, { status: row.status as string, attempts: row.attempts as number });
      }
    }
    const historyWrong: string[] = [];
    for (const [key, pair] of expected) {
      const truth = received.pairs.get(key);
      const row = history.get(deliveryId(pair.eventId, pair.endpointId));
      const want = truth?.succeeded ? "SUCCEEDED" : "FAILED_TERMINAL";
      if (!row) historyWrong.push(`${key}: missing (receiver: ${truth ? want : "never received"})`);
      else if (truth && row.status !== want) historyWrong.push(`${key}: ${row.status}, receiver says ${want}`);
    }
    const deadLettered = countDeadLettered(deadLetters, malformedValues);
    const deadLetterReasons = reasonCounts(deadLetters, malformedValues);
    const uniqueReceived = [...expected.keys()].filter((key) => received.pairs.has(key)).length;
    const requestsForExpected = [...expected.keys()].reduce((sum, key) => sum + (received.pairs.get(key)?.requests ?? 0), 0);
    const succeededRequests = received.lines.filter((line) => line.status === 200 && expected.has(`${line.e} ${line.id}`));
    const duplicates = succeededRequests.length - new Set(succeededRequests.map((line) => `${line.e} ${line.id}`)).size;

    const summary = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
      profile: PROFILE,
      seed: SEED,
      brokers: (process.env.KAFKA_BROKERS ?? "").split(",").length,
      durationSeconds: Math.round((Date.now() - startedAt) / 1000),
      events: produced,
      apiSourcedEvents: apiEventIds.size,
      malformedRecords: malformedProduced,
      endpoints: endpoints.length,
      organizations: ORGANIZATIONS + 1,
      receiverFailRatio: FAIL_RATIO,
      pairsExpected: expected.size,
      pairsReceived: uniqueReceived,
      lost: lost.length,
      requestsForExpectedPairs: requestsForExpected,
      duplicateSuccessfulDeliveries: duplicates,
      duplicateRate: Number((duplicates / Math.max(1, uniqueReceived)).toFixed(4)),
      invalidSignatures: unsigned.length,
      deliveredToWrongEndpoint: wrongPlace.length,
      deliveredToWrongOrganization: wrongOrganization.length,
      apiSourcedDelivered: apiDelivered.length,
      historyMismatches: historyWrong.length,
      malformedDeadLettered: deadLettered,
      deadLetterReasons,
      baselineProbe: baseline,
      faults: faults.map((fault) => ({
        kind: fault.kind,
        target: fault.target,
        outageSeconds: Number(((fault.endedAt - fault.startedAt) / 1000).toFixed(1)),
        recoveredDeliveryMs: fault.deliveredAfterMs,
        recoveredHistoryMs: fault.projectedAfterMs,
      })),
      examples: { lost: lost.slice(0, 10), historyWrong: historyWrong.slice(0, 10), wrongPlace: wrongPlace.slice(0, 5) },
      timeline,
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(path.join(RESULTS, `${PROFILE}.json`), JSON.stringify(summary, null, 2) + "\n");
    note(`results in ${path.relative(root, path.join(RESULTS, `${PROFILE}.json`))}`);
    console.log(JSON.stringify({ ...summary, timeline: undefined, examples: undefined }, null, 2));

    expect(summary.lost, `lost pairs, e.g. ${lost.slice(0, 5).join("; ")}`).toBe(0);
    expect(summary.invalidSignatures).toBe(0);
    expect(summary.deliveredToWrongEndpoint).toBe(0);
    expect(summary.deliveredToWrongOrganization).toBe(0);
    expect(summary.apiSourcedDelivered).toBe(0);
    expect(summary.historyMismatches, historyWrong.slice(0, 5).join("; ")).toBe(0);
    expect(summary.malformedDeadLettered).toBe(malformedValues.size);
  });
});

function describeFault(fault: PlannedFault): string {
  return `${fault.kind}${fault.target === undefined ? "" : ` ${fault.target}`}${fault.outageMs ? ` for ${fault.outageMs / 1000} s` : ""}`;
}

async function inject(
  fault: PlannedFault,
  context: { services: Map<string, ServiceProcess>; startService(name: string): Promise<void>; note(line: string): void },
): Promise<void> {
  switch (fault.kind) {
    case "kill-service": {
      const name = fault.target as string;
      await context.services.get(name)?.kill();
      context.services.delete(name);
      await sleep(fault.outageMs);
      await context.startService(name);
      return;
    }
    case "kill-broker":
      await infra("broker-kill", String(fault.target));
      await sleep(fault.outageMs);
      await infra("broker-start", String(fault.target));
      return;
    case "rolling-restart":
      for (const node of [1, 2, 3]) {
        context.note(`rolling restart: node ${node}`);
        await infra("broker-stop", String(node));
        await infra("broker-start", String(node));
      }
      return;
    case "stop-registry":
      await infra("registry-stop");
      await sleep(fault.outageMs);
      await infra("registry-start");
      return;
    case "stop-postgres":
      await infra("pg-stop");
      await sleep(fault.outageMs);
      await infra("pg-start");
      return;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The upstream producer's job during faults: a write that fails retriably is written again. */
async function sendWithRetry(pipeline: Pipeline, messages: OutgoingMessage[], note: (line: string) => void): Promise<void> {
  for (let tries = 1; ; tries++) {
    try {
      await pipeline.producer.send(pipeline.naming.domainTopic!, messages);
      return;
    } catch (error) {
      if (tries === 1 || tries % 10 === 0) note(`produce failed (try ${tries}), trying again: ${String(error).split("\n")[0]}`);
      if (tries >= 120) throw error;
      await sleep(1_000);
    }
  }
}

/** One malformed record of a rotating kind; each one's bytes are unique (the check keys on them). */
async function malformedRecord(pipeline: Pipeline, index: number): Promise<Buffer> {
  const seed = `${index}-${randomUUID()}`;
  switch (index % 5) {
    case 0:
      return randomBytes(8 + (index % 200));
    case 1:
      return toWireFormat(900_000_000 + index, randomBytes(16));
    case 2: {
      const valid = await pipeline.codec.encode(sampleEvent("kyc.vies_check_failed", { seed }));
      return valid.subarray(0, valid.length - 12);
    }
    case 3: {
      const statusChanged = sampleEvent("compliance.status_changed", { seed });
      const valid = await pipeline.codec.encode(statusChanged);
      const schema = pipeline.catalogue.eventSchema("compliance.status_changed", 1)!;
      return toWireFormat(valid.readInt32BE(1), schema.type.toBuffer({ ...statusChanged, organizationUuid: `acme-${index}` }));
    }
    default: {
      // Every 50th of these is oversized (a ~100 KB record whose JSON body is over 256 KiB).
      if (index % 50 === 4) {
        const event = sampleEvent("kyc.vies_check_failed", { seed });
        return pipeline.codec.encode({ ...event, data: { ...event.data, companyName: "\u0001".repeat(100_000) } });
      }
      return Buffer.from(JSON.stringify({ legacy: true, seed }));
    }
  }
}

function countDeadLettered(records: ReadonlyArray<{ value: Buffer | null }>, malformed: Set<string>): number {
  const seen = new Set<string>();
  for (const record of records) {
    if (!record.value) continue;
    const hex = Buffer.from(record.value).toString("hex");
    if (malformed.has(hex)) seen.add(hex);
  }
  return seen.size;
}

function reasonCounts(records: ReadonlyArray<{ value: Buffer | null; errorClass: string; reason: string }>, malformed: Set<string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const record of records) {
    if (!record.value || !malformed.has(Buffer.from(record.value).toString("hex"))) continue;
    const reason = `${record.errorClass}: ${record.reason.replace(/\d+/g, "N").slice(0, 60)}`;
    counts[reason] = (counts[reason] ?? 0) + 1;
  }
  return counts;
}

interface Fleet {
  baseUrl: string;
  stop(): Promise<void>;
}

/** Starts the receiver fleet process; `register` adds the endpoints (it writes the fleet's config) before the fleet reads it. */
/**
 * Starts the receiver fleet on a port of its own choosing; `register` then adds the endpoints
 * (it fills the fleet's configuration, which the fleet reads when it meets an endpoint it does
 * not know yet, so the endpoints can name the fleet's real URL).
 */
async function startFleet(
  dir: string,
  recordsFile: string,
  config: { endpoints: Record<string, unknown> },
  register: (baseUrl: string) => Promise<void>,
): Promise<Fleet> {
  const configFile = path.join(dir, "fleet.json");
  writeFileSync(configFile, JSON.stringify(config));
  writeFileSync(recordsFile, "");
  const child: ChildProcess = spawn(process.execPath, [path.join(root, "chaos", "receiver-fleet.mjs"), configFile, recordsFile], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      const match = /listening (\d+)/.exec(chunk.toString());
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`receiver fleet exited with ${code}`)));
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  await register(baseUrl);
  writeFileSync(configFile, JSON.stringify(config));
  return {
    baseUrl,
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    },
  };
}
