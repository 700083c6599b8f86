#!/usr/bin/env node
// Summarises V8 .cpuprofile files (node --cpu-prof): the top functions by self time, and our own
// functions (services/, packages/; not node_modules) by total time, i.e. with what they call.
// Several files (e.g. one per run) are added together.
//   node bench/cpuprofile-summary.mjs <file.cpuprofile>... [--top 25] [--last-ms N [--skip-last-ms M]]
// --last-ms keeps only the samples of the N ms before the profile's end (less the last M ms):
// e.g. the idle window of a process stopped right after it, without its start-up and shutdown.
import { readFileSync } from "node:fs";
import path from "node:path";

const args = process.argv.slice(2);
const topAt = args.indexOf("--top");
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 25;
const lastAt = args.indexOf("--last-ms");
const lastMs = lastAt >= 0 ? Number(args.splice(lastAt, 2)[1]) : Infinity;
const skipAt = args.indexOf("--skip-last-ms");
const skipLastMs = skipAt >= 0 ? Number(args.splice(skipAt, 2)[1]) : 0;
if (args.length === 0 || !Number.isInteger(top) || top <= 0) {
  console.error("usage: node bench/cpuprofile-summary.mjs <file.cpuprofile>... [--top N]");
  process.exit(2);
}

/** Function name and where it is defined, shortened to the package or service it belongs to. */
function functionKey({ functionName, url, lineNumber }) {
  const file = url.replace(/^file:\/\//, "");
  const inModules = file.lastIndexOf("node_modules/");
  const short = inModules >= 0 ? file.slice(inModules + "node_modules/".length) : file.replace(/^.*?\/((services|packages)\/)/, "$1");
  return `${functionName || "(anonymous)"} ${short ? `${short}:${lineNumber + 1}` : ""}`.trim();
}

/** What a function belongs to: a node_modules package, one of ours, node itself, or V8. */
function ownerOf(key) {
  const where = key.slice(key.indexOf(" ") + 1);
  const ours = /^(services|packages)\/[^/]+/.exec(where);
  if (ours) return ours[0];
  const dependency = /^(@[^/]+\/[^/]+|[^/@(][^/]*)\/.*\.[cm]?js:/.exec(where);
  if (dependency && !where.startsWith("node:")) return dependency[1];
  if (where.startsWith("node:")) return "node";
  return key.startsWith("(") ? key : "native";
}

function isOwn(key) {
  return /(^| )(services|packages)\//.test(key) && !key.includes("node_modules");
}

const self = new Map();
const total = new Map();
const byOwner = new Map();
let sampledMs = 0;
for (const file of args) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  // Each sample's time in ms after the profile's start, to keep only those in the window asked for.
  const at = [];
  for (let i = 0, t = 0; i < profile.samples.length; i++) at.push((t += (profile.timeDeltas[i] ?? 0) / 1000));
  const windowEnd = (profile.endTime - profile.startTime) / 1000 - skipLastMs;
  const windowStart = windowEnd - lastMs;
  for (let i = 0; i < profile.samples.length; i++) {
    if (at[i] < windowStart || at[i] > windowEnd) continue;
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    let id = profile.samples[i];
    const leaf = functionKey(byId.get(id).callFrame);
    if (leaf.startsWith("(idle)")) continue;
    sampledMs += ms;
    self.set(leaf, (self.get(leaf) ?? 0) + ms);
    byOwner.set(ownerOf(leaf), (byOwner.get(ownerOf(leaf)) ?? 0) + ms);
    // Each function once per sample, however often it recurses.
    const onStack = new Set();
    for (; id !== undefined; id = parentOf.get(id)) onStack.add(functionKey(byId.get(id).callFrame));
    for (const key of onStack) total.set(key, (total.get(key) ?? 0) + ms);
  }
}

const share = (ms) => `${((100 * ms) / sampledMs).toFixed(1).padStart(5)} %`;
const table = (title, entries) => {
  console.log(`\n${title}`);
  for (const [key, ms] of entries.sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms.toFixed(0).padStart(8)} ms ${share(ms)}  ${key}`);
};
const windowNote = Number.isFinite(lastMs) ? `, in the ${lastMs} ms before the last ${skipLastMs} ms` : "";
console.log(`${args.map((file) => path.basename(file)).join(", ")}: ${sampledMs.toFixed(0)} ms busy (idle left out)${windowNote}`);
table("self time by owner", [...byOwner]);
table(`top ${top} by self time`, [...self]);
table(`our own functions, top ${top} by total time`, [...total].filter(([key]) => isOwn(key)));
if (process.env.ALL_TOTAL) table(`all functions, top ${top} by total time`, [...total]);
