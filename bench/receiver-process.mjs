// A webhook receiver in a process of its own (benchmarks: the services' CPU is not shared with
// the receiving side). Answers 200 at once to every POST and remembers when each event id first
// arrived. GET /stats gives { total, firstAt, lastAt }; GET /received/<eventId> gives
// { receivedAt } or 404; GET /longest-gap?path=/hooks&from=<ms>&to=<ms> gives { gapMs, at, arrivals }:
// the longest time between two consecutive POSTs to that path within the window (its edges
// count as arrivals, so silence at either end counts too); GET /paths?prefix=/new/ gives
// { <path>: { count, firstAt } } for the paths POSTed to that start so. Prints its port as the first line of stdout.
import { createServer } from "node:http";

const firstArrival = new Map();
let total = 0;
let firstAt = null;
let lastAt = null;
/** Arrival times (ms) of every POST, by path. */
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

const server = createServer((req, res) => {
  if (req.method === "GET") {
    if (req.url === "/stats") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ total, firstAt, lastAt }));
      return;
    }
    const url = new URL(req.url ?? "/", "http://receiver");
    if (url.pathname === "/paths") {
      const prefix = url.searchParams.get("prefix") ?? "/";
      const paths = {};
      for (const [path, times] of arrivalsByPath) if (path.startsWith(prefix)) paths[path] = { count: times.length, firstAt: times[0] };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(paths));
      return;
    }
    if (url.pathname === "/longest-gap") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(longestGap(url.searchParams.get("path") ?? "/hooks", Number(url.searchParams.get("from")), Number(url.searchParams.get("to")))));
      return;
    }
    const match = /^\/received\/(.+)$/.exec(req.url ?? "");
    const receivedAt = match ? firstArrival.get(decodeURIComponent(match[1])) : undefined;
    res.writeHead(receivedAt === undefined ? 404 : 200, { "content-type": "application/json" });
    res.end(JSON.stringify(receivedAt === undefined ? {} : { receivedAt }));
    return;
  }
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const now = Date.now();
    total++;
    firstAt ??= now;
    lastAt = now;
    const path = (req.url ?? "/").split("?")[0];
    if (!arrivalsByPath.has(path)) arrivalsByPath.set(path, []);
    arrivalsByPath.get(path).push(now);
    try {
      const { id } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      if (typeof id === "string" && !firstArrival.has(id)) firstArrival.set(id, now);
    } catch {
      // Not a webhook body: counted, not remembered.
    }
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
