import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { PROMETHEUS_DATASOURCE } from "@novatrade/dashboards";
import { runProgram } from "../support/run-program.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const k8sDirectory = path.join(root, "deploy/k8s");

async function validate(files: string[]): Promise<{ code: number; output: string }> {
  const result = await runProgram(path.join(root, "scripts/k8s-validate.sh"), files);
  return { code: result.code, output: result.stdout + result.stderr };
}

async function manifests(): Promise<Array<{ file: string; doc: Record<string, any> }>> {
  const files = (await readdir(k8sDirectory)).filter((name) => name.endsWith(".yaml"));
  const all: Array<{ file: string; doc: Record<string, any> }> = [];
  for (const file of files) {
    for (const document of parseAllDocuments(await readFile(path.join(k8sDirectory, file), "utf8"))) all.push({ file, doc: document.toJSON() });
  }
  return all;
}

/**
 * deploy/: what can be checked without a Docker engine or a cluster. The Kubernetes manifests
 * against the Kubernetes JSON schemas (strict, offline), the production rules every Deployment
 * must follow, and the compose file's references to files of this repository.
 */
describe("deployment files", () => {
  beforeAll(async () => {
    // Installs the validator once (a Python venv under .local/); quick afterwards.
    const install = await runProgram(path.join(root, "scripts/k8s-validate.sh"), ["install"]);
    expect(install.code, install.stderr).toBe(0);
  });

  test("every Kubernetes manifest is valid against the Kubernetes schemas (strict)", async () => {
    const result = await validate([]);
    expect(result.code, result.output).toBe(0);
  });

  test("the validation rejects a misspelt field and a wrongly typed value", async () => {
    const directory = await mkdtemp(path.join(tmpdir(), "k8s-mutant-"));
    try {
      const sender = await readFile(path.join(k8sDirectory, "11-sender.yaml"), "utf8");
      const misspelt = path.join(directory, "misspelt.yaml");
      const mistyped = path.join(directory, "mistyped.yaml");
      await writeFile(misspelt, sender.replace("livenessProbe:", "livenesProbe:"));
      await writeFile(mistyped, sender.replace("replicas: 3", 'replicas: "three"'));
      for (const file of [misspelt, mistyped]) {
        const result = await validate([file]);
        expect(result.code, `${path.basename(file)}: ${result.output}`).not.toBe(0);
      }
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  test("one Deployment per service, each with probes, resources, configuration from a Secret and time to stop cleanly", async () => {
    const deployments = (await manifests()).filter(({ doc }) => doc.kind === "Deployment");
    expect(deployments.map(({ doc }) => doc.metadata.name).sort()).toEqual(["admin", "projector", "router", "sender"]);
    for (const { doc } of deployments) {
      const pod = doc.spec.template.spec;
      const [container] = pod.containers;
      expect(container.command.join(" ")).toBe(`node services/${doc.metadata.name}/dist/main.js`);
      expect(existsSync(path.join(root, "services", doc.metadata.name, "src/main.ts"))).toBe(true);
      expect(container.livenessProbe.httpGet.path).toBe("/healthz");
      expect(container.readinessProbe.httpGet.path).toBe("/readyz");
      expect(container.resources.requests.cpu).toBeDefined();
      expect(container.resources.limits.memory).toBeDefined();
      expect(container.envFrom).toContainEqual({ secretRef: { name: "novatrade-webhooks-secrets" } });
      // runService exits within 30 s of SIGTERM; Kubernetes must not kill it before.
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(35);
      expect(doc.spec.template.metadata.annotations["prometheus.io/port"]).toBe(String(container.ports[0].containerPort));
    }
  });

  test("the compose file mounts files that exist and provisions the data source the dashboards use", async () => {
    const compose = parse(await readFile(path.join(root, "deploy/compose.yaml"), "utf8"), { merge: true }) as { services: Record<string, any> };
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(["kafka", "registry", "postgres", "prometheus", "grafana", "router", "sender", "projector", "admin"]));
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of (service.volumes ?? []) as string[]) {
        const source = volume.split(":")[0]!;
        if (source.startsWith(".")) expect(existsSync(path.join(root, "deploy", source)), `${name}: ${source}`).toBe(true);
      }
    }
    expect(existsSync(path.join(root, compose.services.router.build.context.replace("..", "."), compose.services.router.build.dockerfile))).toBe(true);
    const datasources = parse(await readFile(path.join(root, "deploy/grafana/provisioning/datasources/prometheus.yml"), "utf8")) as { datasources: Array<{ uid: string; type: string }> };
    expect(datasources.datasources).toContainEqual(expect.objectContaining({ uid: PROMETHEUS_DATASOURCE.uid, type: PROMETHEUS_DATASOURCE.type }));
  });
});
