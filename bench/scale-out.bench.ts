import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import kafkajs from "kafkajs";
import { afterAll, describe, expect, test } from "vitest";
import { deliveryTopic, topicNames } from "@novatrade/domain";
import type { GroupMember } from "@novatrade/kafka";
import { deletePipelineTopics, registerManyEndpoints } from "../test/support/many-endpoints.js";
import { startPipeline, type Pipeline } from "../test/support/pipeline.js";
import { freePort } from "../test/support/process-tree.js";
import { startServiceProcess, type ServiceProcess } from "../test/support/service-process.js";
import { waitUntil } from "../test/support/wait-until.js";
import {
  PRODUCTION_TOPIC_REFRESH,
  loadAverage,
  machine,
  metric,
  metricSeries,
  publishSpread,
  seconds,
  startReceiverProcess,
  type PublishedEvent,
} from "./support/endpoint-scale-harness.js";

/**
 * Issue 7, scale-out: the endpoint-scale scenario (N endpoints in N organizations, one delivery
 * topic each, events spread over them) with two sender and two router processes in their
 * consumer groups, the receiver in a process of its own. Shows
 * (a) the work divides: delivery partitions assigned and deliveries made per sender, domain
 *     partitions and events routed per router, each read from that process's /metrics (and the
 *     groups' descriptions from the broker);
 * (b) one sender and one router SIGKILLed mid-run: how long until the survivors hold the whole
 *     assignment and first deliver on a moved partition, and that every (event, endpoint) pair
 *     still reaches the receiver (at least once; duplicates counted).
 * Shares are measured from outside (metrics, the groups the senders report, receipts), not from
 * how the sender subscribes. Printed and written to bench/results/scale-out.json; the only
 * assertion is that nothing was lost.
 *
 * BENCH_SCALE_OUT_ENDPOINTS (default 10000), BENCH_SCALE_OUT_EVENTS (default 6000): the first
 * half published and delivered (the division), the third quarter published and the kill once
 * 30 % of it arrived, the last quarter published right after the kill.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const ENDPOINTS = Number(process.env.BENCH_SCALE_OUT_ENDPOINTS ?? 10_000);
const EVENTS = Number(process.env.BENCH_SCALE_OUT_EVENTS ?? 6_000);
/** The kill comes once this share of the third quarter of the events has been delivered. */
const KILL_AT_SHARE = 0.3;
const SESSION_TIMEOUT_MS = 6_000; // the test pipeline's KAFKA_SESSION_TIMEOUT_MS
const WORK_PARTITIONS = "novatrade_kafka_consumer_work_partitions";

const results: Record<string, unknown> = {
  machine: machine(),
  date: new Date().toISOString(),
  configuration: {
    endpoints: ENDPOINTS,
    events: EVENTS,
    killAfterThirdQuarterDeliveredShare: KILL_AT_SHARE,
    instances: "2 senders, 2 routers (services/*/dist/main.js), each with its own ops port; 1 receiver process",
    pipeline: `test pipeline settings (test/support/pipeline.ts): 3 partitions per shared topic (the domain topic too), 1 per delivery topic, session timeout ${SESSION_TIMEOUT_MS} ms; SENDER_TOPIC_REFRESH_MS 30000 (production default)`,
  },
  runs: [] as unknown[],
};

interface Instance {
  name: string;
  opsPort: number;
  process: ServiceProcess;
}

async function startInstances(service: "sender" | "router", env: Record<string, string>): Promise<Instance[]> {
  const portVariable = service === "sender" ? "SENDER_OPS_PORT" : "ROUTER_OPS_PORT";
  return Promise.all(
    [1, 2].map(async (number) => {
      const opsPort = await freePort();
      const process = await startServiceProcess(service, { ...env, [portVariable]: String(opsPort) }, 600_000);
      return { name: `${service}-${number}`, opsPort, process };
    }),
  );
}

/** Delivery partitions a sender holds, over every consumer group it reads delivery topics with. */
async function deliveryPartitions(sender: Instance): Promise<number> {
  return metric(sender.opsPort, WORK_PARTITIONS);
}

/** The groups the senders read delivery topics with, as they report them (however they shard). */
async function senderDeliveryGroups(senders: Instance[]): Promise<string[]> {
  const groups = new Set<string>();
  for (const sender of senders) for (const series of await metricSeries(sender.opsPort, WORK_PARTITIONS)) if (series.labels.group_id) groups.add(series.labels.group_id);
  return [...groups].sort();
}

/** member id → the partitions it holds, as "<topic>:<partition>", over `groups`. */
async function memberAssignments(pipeline: Pipeline, groups: string[]): Promise<Map<string, string[]>> {
  const byMember = new Map<string, string[]>();
  for (const group of groups) {
    for (const member of (await pipeline.kafka.admin.describeGroup(group)).members) byMember.set(`${group}/${member.memberId}`, partitionKeys(member));
  }
  return byMember;
}

function partitionKeys(member: GroupMember): string[] {
  return member.assignment.flatMap(({ topic, partitions }) => (partitions ?? []).map((partition) => `${topic}:${partition}`));
}

/**
 * What the killed instance held: the members of the snapshot before the kill that are gone
 * after it (the survivor keeps its member id through a rebalance). Null when that cannot be
 * told (no member of the snapshot survived).
 */
function killedHoldings(before: Map<string, string[]>, after: Map<string, string[]>): string[] | null {
  const gone = [...before.keys()].filter((member) => !after.has(member));
  if (gone.length === before.size) return null;
  return gone.flatMap((member) => before.get(member)!);
}

/** The domain partition kafkajs's default (murmur2) partitioner picks for an organization's events. */
function domainPartitionOf(topic: string, organizationUuid: string, partitions: number): number {
  const partitioner = kafkajs.Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
  return partitioner({ topic, partitionMetadata, message: { key: organizationUuid, value: null } });
}

/** Seconds from `from` (epoch ms) to the earliest receipt among `events`, or null if none arrived. */
function firstReceiptSeconds(events: PublishedEvent[], arrivals: Map<string, { firstAt: number }>, from: number): number | null {
  const times = events.map((event) => arrivals.get(event.id)?.firstAt).filter((at): at is number => at !== undefined && at >= from);
  return times.length === 0 ? null : Number(((Math.min(...times) - from) / 1000).toFixed(2));
}

describe("scale-out", () => {
  afterAll(() => {
    const out = path.join(here, "results");
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, "scale-out.json"), `${JSON.stringify(results, null, 2)}\n`);
    console.log(JSON.stringify(results, null, 2));
  });

  test(`${ENDPOINTS} endpoints, two senders and two routers, one of each killed mid-run`, async () => {
    const pipeline = await startPipeline({ env: { SENDER_GLOBAL_MAX_IN_FLIGHT: "500", ...PRODUCTION_TOPIC_REFRESH } });
    const receiver = await startReceiverProcess();
    const instances: Instance[] = [];
    const run: Record<string, unknown> = { endpoints: ENDPOINTS, events: EVENTS, loadAverageAtStart: loadAverage() };
    try {
      const domain = topicNames(pipeline.naming).domain;
      const routerGroup = `${pipeline.prefix}router`;
      const registerStarted = performance.now();
      const configs = await registerManyEndpoints(pipeline, receiver.url, ENDPOINTS);
      run.secondsToCreateTopicsAndEndpoints = seconds(registerStarted);
      const topicOfOrganization = new Map(configs.map((config) => [config.organizationUuid, deliveryTopic(pipeline.naming, config.endpointId)]));
      const domainPartitions = (await pipeline.kafka.admin.fetchTopicOffsets(domain)).length;

      const startStarted = performance.now();
      const [senders, routers] = await Promise.all([startInstances("sender", pipeline.env), startInstances("router", pipeline.env)]);
      instances.push(...senders!, ...routers!);
      const [survivingSender, killedSender] = senders!;
      const [survivingRouter, killedRouter] = routers!;

      // (a) The work divides: both senders hold delivery partitions, all N between them; both
      // routers hold domain partitions.
      await waitUntil(
        async () => {
          const held = await Promise.all(senders!.map(deliveryPartitions));
          return held.every((count) => count > 0) && held[0]! + held[1]! === ENDPOINTS;
        },
        { what: `the two senders to share ${ENDPOINTS} delivery partitions`, timeoutMs: 900_000, intervalMs: 500 },
      );
      await waitUntil(
        async () => {
          const members = (await pipeline.kafka.admin.describeGroup(routerGroup)).members;
          return members.length === 2 && members.every((member) => partitionKeys(member).length > 0);
        },
        { what: "the two routers to share the domain partitions", timeoutMs: 300_000, intervalMs: 500 },
      );
      run.secondsUntilWorkDivided = seconds(startStarted);

      // The first half of the events, all delivered: what each instance did of it.
      const organizations = configs.map((config) => config.organizationUuid);
      const firstHalf = Math.floor(EVENTS / 2);
      const deliveriesBy = (sender: Instance) => metric(sender.opsPort, "novatrade_sender_deliveries_total", { result: "succeeded" });
      const routedBy = (router: Instance) => metric(router.opsPort, "novatrade_router_events_total", { outcome: "routed" });
      const firstDelivery: Record<string, number> = {};
      const divisionStarted = performance.now();
      const published = await publishSpread(pipeline, organizations, firstHalf);
      await waitUntil(
        async () => {
          for (const sender of senders!) if (!(sender.name in firstDelivery) && (await deliveriesBy(sender)) > 0) firstDelivery[sender.name] = seconds(divisionStarted);
          return (await receiver.stats()).unique >= firstHalf;
        },
        { what: `the first ${firstHalf} events delivered`, timeoutMs: 1_800_000, intervalMs: 100 },
      );
      run.division = {
        events: firstHalf,
        secondsToDeliverAll: seconds(divisionStarted),
        senders: await Promise.all(
          senders!.map(async (sender) => ({
            instance: sender.name,
            deliveryPartitions: await deliveryPartitions(sender),
            deliveries: await deliveriesBy(sender),
            secondsToFirstDelivery: firstDelivery[sender.name] ?? null,
          })),
        ),
        routers: await Promise.all(routers!.map(async (router) => ({ instance: router.name, routed: await routedBy(router) }))),
        senderGroups: await senderDeliveryGroups(senders!),
      };

      // Mid-run: a quarter of the events published, the kill once some of them have arrived,
      // the last quarter right after it.
      const thirdQuarter = Math.floor((EVENTS - firstHalf) / 2);
      published.push(...(await publishSpread(pipeline, organizations, thirdQuarter, firstHalf)));
      await waitUntil(async () => (await receiver.stats()).unique >= firstHalf + thirdQuarter * KILL_AT_SHARE, {
        what: "deliveries of the third quarter before the kill",
        timeoutMs: 1_800_000,
        intervalMs: 50,
      });
      const senderGroups = await senderDeliveryGroups(senders!);
      const senderMembersBefore = await memberAssignments(pipeline, senderGroups);
      const routerMembersBefore = await memberAssignments(pipeline, [routerGroup]);
      const beforeKill = {
        received: (await receiver.stats()).unique,
        deliveries: Object.fromEntries(await Promise.all(senders!.map(async (sender) => [sender.name, await deliveriesBy(sender)] as const))),
        routed: Object.fromEntries(await Promise.all(routers!.map(async (router) => [router.name, await routedBy(router)] as const))),
      };

      // (b) SIGKILL one sender and one router; the second half of the events right after.
      const killedAt = Date.now();
      const killStarted = performance.now();
      await Promise.all([killedSender!.process.kill(), killedRouter!.process.kill()]);
      instances.splice(instances.indexOf(killedSender!), 1);
      instances.splice(instances.indexOf(killedRouter!), 1);
      const afterKill = await publishSpread(pipeline, organizations, EVENTS - firstHalf - thirdQuarter, firstHalf + thirdQuarter);
      published.push(...afterKill);

      const [senderTakeover, routerTakeover] = await Promise.all([
        waitUntil(async () => (await deliveryPartitions(survivingSender!)) === ENDPOINTS && seconds(killStarted), {
          what: `the surviving sender to hold all ${ENDPOINTS} delivery partitions`,
          timeoutMs: 900_000,
          intervalMs: 250,
        }),
        waitUntil(
          async () => {
            const members = (await pipeline.kafka.admin.describeGroup(routerGroup)).members;
            return members.length === 1 && partitionKeys(members[0]!).length === domainPartitions && seconds(killStarted);
          },
          { what: "the surviving router to hold every domain partition", timeoutMs: 300_000, intervalMs: 250 },
        ),
      ]);
      const movedDelivery = killedHoldings(senderMembersBefore, await memberAssignments(pipeline, senderGroups));
      const movedDomain = killedHoldings(routerMembersBefore, await memberAssignments(pipeline, [routerGroup]));

      await waitUntil(async () => (await receiver.stats()).unique >= EVENTS, { what: `all ${EVENTS} events delivered`, timeoutMs: 1_800_000, intervalMs: 250 });
      const arrivals = await receiver.arrivals();
      const lost = published.filter((event) => !arrivals.has(event.id));
      const duplicates = [...arrivals.values()].reduce((sum, { count }) => sum + count - 1, 0);
      const stats = await receiver.stats();

      const movedTopics = movedDelivery && new Set(movedDelivery.map((key) => key.slice(0, key.lastIndexOf(":"))));
      const movedPartitions = movedDomain && new Set(movedDomain.map((key) => Number(key.slice(key.lastIndexOf(":") + 1))));
      const onMovedEndpoint = movedTopics && published.filter((event) => movedTopics.has(topicOfOrganization.get(event.organizationUuid)!));
      const onMovedDomainPartition = movedPartitions && afterKill.filter((event) => movedPartitions.has(domainPartitionOf(domain, event.organizationUuid, domainPartitions)));

      Object.assign(run, {
        kill: {
          killed: [killedSender!.name, killedRouter!.name],
          beforeKill,
          sessionTimeoutMs: SESSION_TIMEOUT_MS,
          secondsUntilSurvivingSenderHeldAll: senderTakeover,
          secondsUntilSurvivingRouterHeldAll: routerTakeover,
          movedDeliveryPartitions: movedDelivery?.length ?? "unknown (no member id survived the kill)",
          movedDomainPartitions: movedDomain?.length ?? "unknown (no member id survived the kill)",
          // Receipts after the kill of events for endpoints the killed sender held: backlog it
          // left and events published after the kill, now the survivor's.
          secondsToFirstDeliveryOnMovedEndpoint: onMovedEndpoint && firstReceiptSeconds(onMovedEndpoint, arrivals, killedAt),
          // Events published after the kill on domain partitions the killed router held.
          secondsToFirstDeliveryFromMovedDomainPartition: onMovedDomainPartition && firstReceiptSeconds(onMovedDomainPartition, arrivals, killedAt),
        },
        delivered: {
          pairsPublished: published.length,
          pairsReceived: arrivals.size,
          lost: lost.length,
          duplicates,
          requests: stats.total,
          secondsFromKillToLastDelivery: Number((((stats.lastAt ?? killedAt) - killedAt) / 1000).toFixed(2)),
        },
        survivors: {
          [survivingSender!.name]: { deliveries: await deliveriesBy(survivingSender!) },
          [survivingRouter!.name]: { routed: await routedBy(survivingRouter!) },
        },
        loadAverageAtEnd: loadAverage(),
      });
      console.log("scale-out", JSON.stringify(run, null, 2));
      // Every (event, endpoint) pair (one endpoint per organization: one pair per event) arrived.
      expect(lost.map((event) => event.id)).toEqual([]);
    } finally {
      (results.runs as unknown[]).push(run);
      await Promise.all(instances.map((instance) => instance.process.kill()));
      await receiver.stop();
      run.topicsDeleted = await deletePipelineTopics(pipeline);
      await pipeline.close();
    }
  }, 3_600_000);
});
