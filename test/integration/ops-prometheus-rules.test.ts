import { cp, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { runProgram } from "../support/run-program.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const prometheusDirectory = path.join(root, "deploy/prometheus");

async function promtool(args: string[], cwd = prometheusDirectory): Promise<{ code: number; output: string }> {
  const result = await runProgram("promtool", args, { cwd, hint: "make prometheus-install (Debian's prometheus package)" });
  return { code: result.code, output: result.stdout + result.stderr };
}

interface RuleFile {
  groups: Array<{ rules: Array<{ alert?: string; expr: string }> }>;
}
interface RuleTestFile {
  rule_files: string[];
  tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
}

async function yamlFiles(directory: string): Promise<string[]> {
  return (await readdir(path.join(prometheusDirectory, directory))).filter((name) => name.endsWith(".yml")).map((name) => `${directory}/${name}`);
}

/** promtool over deploy/prometheus: the scrape configuration, every rule file, and the rule unit tests. */
describe("Prometheus configuration and alert rules (promtool)", () => {
  test("promtool check config accepts deploy/prometheus/prometheus.yml", async () => {
    const result = await promtool(["check", "config", "prometheus.yml"]);
    expect(result.code, result.output).toBe(0);
  });

  test("promtool check rules accepts every rule file", async () => {
    const result = await promtool(["check", "rules", ...(await yamlFiles("rules"))]);
    expect(result.code, result.output).toBe(0);
  });

  test("promtool test rules passes for every test file", async () => {
    const files = await yamlFiles("tests");
    const result = await promtool(["test", "rules", ...files]);
    expect(result.code, result.output).toBe(0);
    expect(result.output.match(/SUCCESS/g)?.length).toBe(files.length);
  });

  test("every alert has a unit test in which it fires and one in which it does not", async () => {
    const alerts = new Set<string>();
    for (const file of await yamlFiles("rules")) {
      const rules = parse(await readFile(path.join(prometheusDirectory, file), "utf8")) as RuleFile;
      for (const group of rules.groups) for (const rule of group.rules) if (rule.alert) alerts.add(rule.alert);
    }
    const firing = new Set<string>();
    const quiet = new Set<string>();
    for (const file of await yamlFiles("tests")) {
      const tests = parse(await readFile(path.join(prometheusDirectory, file), "utf8")) as RuleTestFile;
      for (const unit of tests.tests) {
        for (const check of unit.alert_rule_test ?? []) ((check.exp_alerts ?? []).length > 0 ? firing : quiet).add(check.alertname);
      }
    }
    expect(alerts.size).toBeGreaterThanOrEqual(11);
    for (const alert of alerts) {
      expect(firing.has(alert), `${alert} has no test where it fires`).toBe(true);
      expect(quiet.has(alert), `${alert} has no test where it stays quiet`).toBe(true);
    }
  });

  test("the rule tests catch a broken rule: a threshold changed in a copy makes promtool fail", async () => {
    const copy = await mkdtemp(path.join(tmpdir(), "promtool-mutant-"));
    try {
      await cp(prometheusDirectory, copy, { recursive: true });
      const rulesFile = path.join(copy, "rules/alerts.yml");
      const original = await readFile(rulesFile, "utf8");
      const mutated = original.replace("novatrade_sender_terminal_failures_total[15m])) > 5", "novatrade_sender_terminal_failures_total[15m])) > 500");
      expect(mutated).not.toBe(original);
      await writeFile(rulesFile, mutated);
      const result = await promtool(["test", "rules", "tests/alerts.test.yml"], copy);
      expect(result.code).not.toBe(0);
      expect(result.output).toContain("NovatradeTerminalFailuresRising");
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });
});
