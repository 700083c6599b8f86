// A webhook receiver in a process of its own (benchmarks: the services' CPU is not shared with
// the receiving side). Prints its port as the first line of stdout.
//
// What a POST gets depends on the first path segment:
//   /hooks/<group>       200 at once
//   /fail-first/<group>  500 to attempt 1 (X-Novatrade-Attempt), 200 to later attempts
//   /hang/<group>        no answer ever: the connection is held until the sender gives up
// <group> (optional, default "default") names the endpoint or the set of endpoints whose
// figures are reported together.
//
// Every 2xx answer is recorded: arrival time (this machine's clock), the envelope's createdAt
// (the load generator's clock: the same machine), the group.
//   GET /stats                      { total, unique, refused, hanging (now), hung (ever), firstAt, lastAt }
//   GET /received/<eventId>         { receivedAt } (first arrival) or 404
//   GET /arrivals                   [eventId, firstArrivalAt, count] for every event id (count > 1: duplicates)
//   GET /longest-gap?path=/hooks&from=<ms>&to=<ms>
//        { gapMs, at, arrivals }: the longest time between two consecutive 2xx POSTs to that path
//        within the window (its edges count as arrivals, so silence at either end counts too)
//   GET /paths?prefix=/new/          { <path>: { count, firstAt } } for the paths POSTed to that start so
//   GET /summary?by=arrival|created&from=<ms>&to=<ms>
//        per group, over the 2xx deliveries whose arrival (or creation) time is in [from, to):
//        { deliveries, firstArrivalAt, lastArrivalAt, latencyMs: { p50, p95, p99, max } }
//        (latency: arrival minus createdAt).
import { createServer } from "node:http";

const firstArrival = new Map();
const arrivalCount = new Map();
const arrivals = [];
const createdAts = [];
const groups = [];
let total = 0;
let refused = 0;
let hanging = 0;
let hung = 0;
let firstAt = null;
let lastAt = null;
/** Arrival times (ms) of every 2xx POST, by path. */
const arrivalsByPath = new Map();

function longestGap(path, from, to) {
  const times = [from, ...(arrivalsByPath.get(path) ?? []).filter((at) => at >= from && at <= to), to];
  let gapMs = 0;
  let at = from;
  for (let i = 1; i < times.length; i++) {
    if (times[i] - times[i - 1] > gapMs) {
      gapMs = times[i] - times[i - 1];
      at = times[i - 1];
    }
  }
  return { gapMs, at, arrivals: times.length - 2 };
}

function paths(prefix) {
  const out = {};
  for (const [path, times] of arrivalsByPath) if (path.startsWith(prefix)) out[path] = { count: times.length, firstAt: times[0] };
  return out;
}

function json(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function percentile(sorted, share) {
  return sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))];
}

function summary(query) {
  const byCreation = query.get("by") === "created";
  const from = Number(query.get("from") ?? -Infinity);
  const to = Number(query.get("to") ?? Infinity);
  const perGroup = new Map();
  for (let index = 0; index < arrivals.length; index++) {
    const at = byCreation ? createdAts[index] : arrivals[index];
    if (!(at >= from && at < to)) continue;
    let entry = perGroup.get(groups[index]);
    if (!entry) perGroup.set(groups[index], (entry = { latencies: [], firstArrivalAt: Infinity, lastArrivalAt: -Infinity }));
    entry.latencies.push(arrivals[index] - createdAts[index]);
    entry.firstArrivalAt = Math.min(entry.firstArrivalAt, arrivals[index]);
    entry.lastArrivalAt = Math.max(entry.lastArrivalAt, arrivals[index]);
  }
  const out = {};
  for (const [group, entry] of perGroup) {
    const sorted = entry.latencies.filter((latency) => Number.isFinite(latency)).sort((a, b) => a - b);
    out[group] = {
      deliveries: entry.latencies.length,
      firstArrivalAt: entry.firstArrivalAt,
      lastArrivalAt: entry.lastArrivalAt,
      latencyMs: { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? null },
    };
  }
  return out;
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://receiver");
  if (req.method === "GET") {
    if (url.pathname === "/stats") return json(res, 200, { total, unique: firstArrival.size, refused, hanging, hung, firstAt, lastAt });
    if (url.pathname === "/summary") return json(res, 200, summary(url.searchParams));
    if (url.pathname === "/longest-gap") {
      return json(res, 200, longestGap(url.searchParams.get("path") ?? "/hooks", Number(url.searchParams.get("from")), Number(url.searchParams.get("to"))));
    }
    if (url.pathname === "/paths") return json(res, 200, paths(url.searchParams.get("prefix") ?? "/"));
    if (url.pathname === "/arrivals") return json(res, 200, [...firstArrival].map(([id, at]) => [id, at, arrivalCount.get(id)]));
    const match = /^\/received\/(.+)$/.exec(url.pathname);
    const receivedAt = match ? firstArrival.get(decodeURIComponent(match[1])) : undefined;
    return json(res, receivedAt === undefined ? 404 : 200, receivedAt === undefined ? {} : { receivedAt });
  }
  const [, behaviour, group = "default"] = url.pathname.split("/");
  if (behaviour === "hang") {
    hanging++;
    hung++;
    req.resume();
    res.once("close", () => hanging--);
    return;
  }
  if (behaviour === "fail-first" && req.headers["x-novatrade-attempt"] === "1") {
    refused++;
    req.resume();
    res.writeHead(500, { "content-type": "text/plain" });
    res.end("first attempt refused");
    return;
  }
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const now = Date.now();
    total++;
    firstAt ??= now;
    lastAt = now;
    if (!arrivalsByPath.has(url.pathname)) arrivalsByPath.set(url.pathname, []);
    arrivalsByPath.get(url.pathname).push(now);
    try {
      const { id, createdAt } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      if (typeof id === "string") {
        if (!firstArrival.has(id)) firstArrival.set(id, now);
        arrivalCount.set(id, (arrivalCount.get(id) ?? 0) + 1);
      }
      arrivals.push(now);
      createdAts.push(typeof createdAt === "string" ? Date.parse(createdAt) : NaN);
      groups.push(group);
    } catch {
      // Not a webhook body: counted, not remembered.
    }
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
  });
});
server.keepAliveTimeout = 60_000;
// Hung requests are held for as long as the sender waits; node's own 5-minute limit must not
// answer them first.
server.requestTimeout = 0;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
