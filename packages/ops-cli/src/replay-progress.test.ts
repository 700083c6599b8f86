import { PassThrough } from "node:stream";
import { describe, expect, test } from "vitest";
import { AdminClient } from "./admin-client.js";
import { followReplay } from "./replay-progress.js";
import { EXIT_FAILURE, EXIT_INVALID_INPUT, EXIT_OK, runOpsCommand } from "./ops-command.js";

/** A fetch that answers each call with the next of `bodies` (status 200 unless given). */
function scriptedFetch(answers: Array<{ status?: number; body: unknown }>, seen: Array<{ url: string; init: RequestInit | undefined }> = []): typeof fetch {
  let index = 0;
  return (async (url: string | URL, init?: RequestInit) => {
    seen.push({ url: String(url), init });
    const answer = answers[Math.min(index++, answers.length - 1)]!;
    return new Response(JSON.stringify(answer.body), { status: answer.status ?? 200, headers: { "content-type": "application/json" } });
  }) as typeof fetch;
}

const job = (state: string, scanned: number, requeued: number, total = 10) => ({ jobId: "rpl_1", state, scanned, requeued, total, error: null });

function collect() {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
  return { stream, text: () => text };
}

describe("followReplay", () => {
  test("draws each step of the job's progress until it ends, and returns the final counts", async () => {
    const output = collect();
    const client = new AdminClient({ baseUrl: "http://admin", apiKey: "k", fetch: scriptedFetch([{ body: job("queued", 0, 0, 0) }, { body: job("running", 4, 2) }, { body: job("running", 8, 5) }, { body: job("succeeded", 10, 6) }]) });
    const final = await followReplay(client, "rpl_1", { stream: output.stream, pollIntervalMs: 1, sleep: async () => undefined });
    expect(final).toMatchObject({ state: "succeeded", scanned: 10, requeued: 6 });
    const lines = output.text().split("\n").filter((line) => line.trim() !== "");
    expect(lines.some((line) => line.includes("4/10 scanned, 2 re-queued, running"))).toBe(true);
    expect(lines.some((line) => line.includes("8/10 scanned, 5 re-queued, running"))).toBe(true);
    expect(lines.at(-1)).toContain("10/10 scanned, 6 re-queued, succeeded");
  });
});

describe("runOpsCommand exit codes", () => {
  const base = { env: { NOVATRADE_API_KEY: "k", NOVATRADE_ADMIN_URL: "http://admin" }, progressStream: new PassThrough(), sleep: async () => undefined };

  test("0 and the answer on stdout; the request is the one the command stands for", async () => {
    let out = "";
    const seen: Array<{ url: string; init: RequestInit | undefined }> = [];
    const code = await runOpsCommand(["endpoints", "pause", "ep_1"], { ...base, stdout: (t) => (out += t), stderr: () => undefined, fetch: scriptedFetch([{ body: { endpointId: "ep_1", status: "PAUSED" } }], seen) });
    expect(code).toBe(EXIT_OK);
    expect(JSON.parse(out)).toEqual({ endpointId: "ep_1", status: "PAUSED" });
    expect(seen.map((call) => `${call.init?.method} ${call.url}`)).toEqual(["POST http://admin/v1/endpoints/ep_1/pause"]);
  });

  test("2 with the field named when the admin refuses the input, or the command line is wrong", async () => {
    let err = "";
    const refused = await runOpsCommand(["endpoints", "create", "--url", "ftp://x", "--types", "kyc.*"], {
      ...base,
      stdout: () => undefined,
      stderr: (t) => (err += t),
      fetch: scriptedFetch([{ status: 400, body: { title: "Invalid request", detail: "url: must be https", field: "url" } }]),
    });
    expect(refused).toBe(EXIT_INVALID_INPUT);
    expect(err).toContain("field: url");
    const usage = await runOpsCommand(["replay", "range", "--endpoint", "ep_1", "--from", "not a time", "--to", "2026-12-01T00:00:00Z"], { ...base, stdout: () => undefined, stderr: () => undefined });
    expect(usage).toBe(EXIT_INVALID_INPUT);
  });

  test("1 when the admin cannot be reached, or a followed replay fails", async () => {
    const unreachable = await runOpsCommand(["endpoints", "list"], { ...base, stdout: () => undefined, stderr: () => undefined, fetch: (async () => { throw new TypeError("fetch failed"); }) as typeof fetch });
    expect(unreachable).toBe(EXIT_FAILURE);
    let err = "";
    const failed = await runOpsCommand(["replay", "delivery", "dlv_1"], {
      ...base,
      stdout: () => undefined,
      stderr: (t) => (err += t),
      fetch: scriptedFetch([{ status: 202, body: job("queued", 0, 0, 0) }, { body: { ...job("failed", 0, 0, 1), error: "gone" } }]),
    });
    expect(failed).toBe(EXIT_FAILURE);
    expect(err).toContain("replay rpl_1 failed");
  });
});
