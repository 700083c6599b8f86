// A webhook receiver in a process of its own (benchmarks: the services' CPU is not shared with
// the receiving side). Answers 200 at once to every POST and remembers when each event id first
// arrived and how many times. GET /stats gives { total, unique, firstAt, lastAt }; GET
// /received/<eventId> gives { receivedAt } or 404; GET /arrivals gives [eventId, firstAt, count]
// for every event id (duplicates: count > 1). Prints its port as the first line of stdout.
import { createServer } from "node:http";

const firstArrival = new Map();
const arrivalCount = new Map();
let total = 0;
let firstAt = null;
let lastAt = null;

const server = createServer((req, res) => {
  if (req.method === "GET") {
    if (req.url === "/stats") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ total, unique: firstArrival.size, firstAt, lastAt }));
      return;
    }
    if (req.url === "/arrivals") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify([...firstArrival].map(([id, at]) => [id, at, arrivalCount.get(id)])));
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
    try {
      const { id } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      if (typeof id === "string") {
        if (!firstArrival.has(id)) firstArrival.set(id, now);
        arrivalCount.set(id, (arrivalCount.get(id) ?? 0) + 1);
      }
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
