import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parse } from "yaml";
import { dashboardQueries, overviewDashboard } from "@novatrade/dashboards";
import { sampleEvent } from "@novatrade/event-codec";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { freePort } from "../support/process-tree.js";
import { startPrometheus, type PrometheusServer } from "../support/prometheus-server.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { startServiceProcess, type ServiceProcess } from "../support/service-process.js";
import { waitUntil } from "../support/wait-until.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SERVICES = ["router", "sender", "projector", "admin"] as const;

/** Metric names a PromQL expression or rule refers to (all of ours carry the novatrade_ prefix). */
function metricNames(expr: string): string[] {
  return [...new Set(expr.match(/\bnovatrade_[a-zA-Z0-9_:]+/g) ?? [])];
}

async function alertExpressions(file: string): Promise<Array<{ alert: string; expr: string }>> {
  const rules = parse(await readFile(path.join(root, "deploy/prometheus/rules", file), "utf8")) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  return rules.groups.flatMap((group) => group.rules);
}

/**
 * A real Prometheus server scraping the four services running as real processes (their ops
 * servers on ports of their own) on this test's topics; traffic is driven through the router
 * and sender and read back through Prometheus's HTTP API.
 */
describe("Prometheus scraping the running services", () => {
  let pipeline: Pipeline;
  let ok: Receiver;
  let failing: Receiver;
  let prometheus: PrometheusServer;
  const processes: ServiceProcess[] = [];
  let opsPorts: Record<string, number> = {};

  /**
   * Every metric name the running services declare on /metrics (`# TYPE` lines, histogram
   * series included), whether or not it has a sample yet: a labelled counter that has not been
   * incremented is exported all the same, but Prometheus has no series of it.
   */
  async function exportedMetricNames(): Promise<Set<string>> {
    const names = new Set<string>();
    for (const port of Object.values(opsPorts)) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
        names.add(name!);
        if (type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${name}${suffix}`);
        if (type === "summary") for (const suffix of ["_sum", "_count"]) names.add(`${name}${suffix}`);
      }
    }
    return names;
  }

  async function sum(expr: string): Promise<number> {
    const result = await prometheus.query(expr);
    return result.reduce((total, sample) => total + Number(sample.value[1]), 0);
  }

  beforeAll(async () => {
    pipeline = await startPipeline();
    ok = await startReceiver();
    failing = await startReceiver(() => ({ status: 500, body: "down" }));
    // Registered before the services start: they read the endpoint topic at start-up.
    await pipeline.addEndpoint({ url: ok.url, eventTypes: ["kyc.*"] });
    await pipeline.addEndpoint({ url: failing.url, eventTypes: ["prospect.submitted"] });
    const ports: Record<string, number> = {};
    for (const service of SERVICES) ports[service] = await freePort();
    opsPorts = ports;
    const opsEnv = Object.fromEntries(SERVICES.map((service) => [`${service.toUpperCase()}_OPS_PORT`, String(ports[service])]));
    for (const service of SERVICES) processes.push(await startServiceProcess(service, { ...pipeline.env, ...opsEnv }));
    prometheus = await startPrometheus(ports);
    await waitUntil(async () => (await sum(`up{job=~"router|sender|projector|admin"}`)) === SERVICES.length, {
      what: "Prometheus to scrape all four services",
    });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await Promise.all(processes.map((process) => process.stop()));
    await pipeline?.close();
    await ok?.close();
    await failing?.close();
  });

  test("the delivery counters move in Prometheus as deliveries happen", async () => {
    const succeededBefore = await sum(`novatrade_sender_attempts_total{result="success"}`);
    const routedBefore = await sum("novatrade_router_deliveries_total");
    const published = 20;
    for (let i = 0; i < published; i++) await pipeline.publish({ type: "kyc.vies_check_failed", data: sampleEvent("kyc.vies_check_failed").data });
    await pipeline.publish({ type: "prospect.submitted", data: sampleEvent("prospect.submitted").data });
    await ok.waitForRequests(published);

    await waitUntil(async () => (await sum(`novatrade_sender_attempts_total{result="success"}`)) >= succeededBefore + published, {
      what: `Prometheus to see ${published} more successful attempts`,
    });
    // Each target is scraped on its own schedule: the router's samples may lag the sender's.
    await waitUntil(async () => (await sum("novatrade_router_deliveries_total")) >= routedBefore + published + 1, {
      what: `Prometheus to see ${published + 1} more routed deliveries`,
    });
    const byType = await prometheus.query("sum by (event_type) (novatrade_router_deliveries_total)");
    expect(byType.map((sample) => sample.metric.event_type)).toEqual(expect.arrayContaining(["kyc.vies_check_failed", "prospect.submitted"]));
    // Finished deliveries by event type, and each one's time from the event's creation to its 2xx.
    await waitUntil(async () => (await sum(`novatrade_sender_deliveries_total{result="succeeded", event_type="kyc.vies_check_failed"}`)) >= published, {
      what: "succeeded deliveries by event type in Prometheus",
    });
    await waitUntil(async () => (await sum(`novatrade_sender_end_to_end_seconds_count{event_type="kyc.vies_check_failed"}`)) >= published, {
      what: "end-to-end latencies in Prometheus",
    });
    // Lag per group and topic kind (read at start and on a timer), never per topic.
    const lag = await waitUntil(async () => {
      const samples = await prometheus.query("novatrade_kafka_consumer_lag_messages");
      return samples.some((sample) => sample.metric.topic_kind === "delivery") && samples.some((sample) => sample.metric.topic_kind === "domain") ? samples : false;
    }, { what: "consumer lag of the sender's and router's groups" });
    expect(lag.every((sample) => !("topic" in sample.metric))).toBe(true);
    // Paused endpoints by reason, counted by the projector from its health table.
    const paused = await waitUntil(async () => ((await prometheus.query("novatrade_endpoints_paused")).length === 2 ? prometheus.query("novatrade_endpoints_paused") : false), { what: "paused endpoints by reason" });
    expect(paused.map((sample) => sample.metric.reason).sort()).toEqual(["auto", "manual"]);
    // The failing endpoint's ten attempts (compressed schedule) end in a terminal failure.
    await waitUntil(async () => (await sum("novatrade_sender_terminal_failures_total")) >= 1, { what: "a terminal failure in Prometheus" });
    await waitUntil(async () => (await sum(`novatrade_sender_attempts_total{result="failure", error_class="http_status"}`)) >= 10, {
      what: "the ten failed attempts in Prometheus",
    });
    // A record that is not an event: the router dead-letters it, and Prometheus sees that too.
    const deadLettersBefore = await sum("novatrade_router_dead_letters_total");
    await pipeline.producer.send(pipeline.naming.domainTopic!, [{ key: "poison", value: Buffer.from("not avro") }]);
    await waitUntil(async () => (await sum("novatrade_router_dead_letters_total")) > deadLettersBefore, { what: "a dead letter in Prometheus" });
  });

  test("every dashboard query evaluates, and names only metrics a running service exports", async () => {
    const exported = await exportedMetricNames();
    // Sentinel: the check does reject a name nobody exports.
    expect(metricNames("rate(novatrade_sender_attempts_totl[1m])").every((name) => exported.has(name))).toBe(false);
    const queries = dashboardQueries(overviewDashboard());
    expect(queries.length).toBeGreaterThan(15);
    const problems: string[] = [];
    for (const { panel, expr } of queries) {
      // Grafana fills in its interval variables; Prometheus gets a concrete range.
      const concrete = expr.replaceAll("$__rate_interval", "1m").replaceAll("$__interval", "1m");
      await prometheus.query(concrete).catch((error: unknown) => problems.push(`${panel}: ${String(error)}`));
      for (const name of metricNames(expr)) if (!exported.has(name)) problems.push(`${panel}: ${name} is exported by no running service`);
    }
    expect(problems).toEqual([]);
  });

  test("the alert rules are loaded and every one uses metrics the services export", async () => {
    const exported = await exportedMetricNames();
    const loaded = await prometheus.api<{ groups: Array<{ rules: Array<{ name: string; health: string }> }> }>("/api/v1/rules");
    const rules = loaded.groups.flatMap((group) => group.rules);
    expect(rules.length).toBe((await alertExpressions("alerts.yml")).length);
    expect(rules.filter((rule) => rule.health === "err")).toEqual([]);
    for (const { alert, expr } of await alertExpressions("alerts.yml")) {
      for (const name of metricNames(expr)) expect(exported.has(name), `${alert}: ${name}`).toBe(true);
    }
  });
});
