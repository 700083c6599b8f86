// The chaos run's receivers, in a process of their own (load generator and receivers are never
// the services' process). One HTTP server; each endpoint is a path /ep/<endpointId>. Every
// request is verified with the endpoint's secret (X-Novatrade-Signature, constant time, via the
// receiver kit) and recorded as one JSON line, whatever is answered: the check reads these
// records, never the dispatcher's.
//
// argv: <config.json> <records.jsonl>; prints "listening <port>". The configuration is read again
// whenever a request names an endpoint it does not hold yet (endpoints are registered once the
// fleet's port is known).
// config: { endpoints: { [name]: { secret, failRatio, slowRatio, slowMs } } }, name = the path after /ep/
import { createServer } from "node:http";
import { appendFileSync, readFileSync } from "node:fs";
import { novatradeSignatureMatches, parseNovatradeSignature, signingKey } from "../packages/receiver/dist/index.js";

const [configPath, recordsPath] = process.argv.slice(2);
let config = { endpoints: {} };
let keys = new Map();
function endpointNamed(name) {
  if (!(name in config.endpoints)) {
    config = JSON.parse(readFileSync(configPath, "utf8"));
    keys = new Map(Object.entries(config.endpoints).map(([id, endpoint]) => [id, [signingKey(endpoint.secret)]]));
  }
  return config.endpoints[name];
}

let pending = [];
function record(line) {
  pending.push(JSON.stringify(line));
  if (pending.length >= 200) flush();
}
function flush() {
  if (pending.length === 0) return;
  appendFileSync(recordsPath, pending.join("\n") + "\n");
  pending = [];
}
setInterval(flush, 200).unref();

function verified(endpointId, headers, body) {
  const endpointKeys = keys.get(endpointId);
  const header = headers["x-novatrade-signature"];
  if (!endpointKeys || typeof header !== "string") return false;
  try {
    return novatradeSignatureMatches(parseNovatradeSignature(header), body, endpointKeys);
  } catch {
    return false;
  }
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    const endpointId = (req.url ?? "").replace(/^\/ep\//, ""); // the endpoint's name
    const endpoint = endpointNamed(endpointId);
    let json = {};
    try {
      json = JSON.parse(body.toString("utf8"));
    } catch {}
    const ok = verified(endpointId, req.headers, body);
    const roll = Math.random();
    const fail = !endpoint || roll < endpoint.failRatio;
    const slow = endpoint && !fail && Math.random() < endpoint.slowRatio;
    const answer = () => {
      const status = fail ? 500 : 200;
      record({ e: endpointId, id: json.id ?? null, org: json.organizationUuid ?? null, type: json.type ?? null, source: json.source ?? null, ok, status, t: Date.now() });
      res.writeHead(status, { "content-type": "text/plain" });
      res.end(fail ? "chaos says no" : "ok");
    };
    if (slow) setTimeout(answer, endpoint.slowMs);
    else answer();
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, "127.0.0.1", () => process.stdout.write(`listening ${server.address().port}\n`));
const stop = () => {
  flush();
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
