// `mlautoscale render` end to end through the CLI's dispatch, with captured output.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, stringify } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { renderCrdYaml } from "../../../src/api/v1alpha1/index.js";
import { main } from "../../../src/commands.js";
import { loadPolicyFile, renderPolicy } from "../../../src/render/index.js";
import { validBasePolicy, validKedaBasePolicy, withChanges } from "../../fixtures/invalid-policies.js";
import { runCommand } from "../../support/command-io.js";

const example = (file: string): string =>
  fileURLToPath(new URL(`../../../examples/${file}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "mlautoscale-render-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writePolicyFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const yamlOf = (...documents: object[]): string => documents.map((d) => `---\n${stringify(d)}`).join("");

const run = (...argv: string[]) => runCommand(main, argv);

function kindsAndNames(yamlText: string): string[] {
  const documents = parseAllDocuments(yamlText);
  if (!Array.isArray(documents)) throw new Error("not a YAML stream");
  return documents.map((d) => {
    const o = d.toJS() as { kind: string; metadata: { name: string } };
    return `${o.kind}/${o.metadata.name}`;
  });
}

describe("render: success", () => {
  it("prints every child of a policy as YAML, and the corrections on stderr", async () => {
    const { code, stdout, stderr } = await run("render", "-f", example("1-realtime-inference.yaml"));
    expect(code).toBe(0);
    expect(kindsAndNames(stdout)).toEqual([
      "Deployment/resnet50-inference",
      "HorizontalPodAutoscaler/resnet50-inference",
      "PodDisruptionBudget/resnet50-inference",
    ]);
    expect(stderr).toContain("note: ");
    expect(stderr).toContain("corrected: minAvailable 2");
  });

  it("renders every policy of a multi-document file and of several files, in order", async () => {
    const multi = writePolicyFile(
      "multi.yaml",
      yamlOf(
        withChanges(validBasePolicy(), { "metadata.name": "first" }),
        withChanges(validKedaBasePolicy(), { "metadata.name": "second" }),
      ) + "---\n",
    );
    const { code, stdout, stderr } = await run("render", "-f", multi, "-f", example("3-training-sqs.yaml"));
    expect(stderr).not.toContain("error");
    expect(code).toBe(0);
    expect(kindsAndNames(stdout)).toEqual([
      "Deployment/first",
      "HorizontalPodAutoscaler/first",
      "PodDisruptionBudget/first",
      "Deployment/second",
      "TriggerAuthentication/second",
      "ScaledObject/second",
      "PodDisruptionBudget/second",
      "Deployment/finetune-workers",
      "ScaledObject/finetune-workers",
      "PodDisruptionBudget/finetune-workers",
    ]);
  });

  it("prints a JSON List with -o json", async () => {
    const { code, stdout } = await run("render", "-f", example("4-hybrid-external.yaml"), "-o", "json");
    expect(code).toBe(0);
    const list = JSON.parse(stdout) as { apiVersion: string; kind: string; items: { kind: string }[] };
    expect(list.apiVersion).toBe("v1");
    expect(list.kind).toBe("List");
    expect(list.items.map((i) => i.kind)).toEqual([
      "Deployment",
      "HorizontalPodAutoscaler",
      "PodDisruptionBudget",
    ]);
  });

  it("prints exactly the objects the operator would apply, in YAML and in JSON", async () => {
    const file = example("2-batch-rabbitmq.yaml");
    const [policy] = await loadPolicyFile(file);
    if (policy === undefined) throw new Error("no policy");
    const expected = renderPolicy(policy, { kedaInstalled: true }).objects;
    const yamlRun = await run("render", "-f", file);
    const documents = parseAllDocuments(yamlRun.stdout);
    expect(Array.isArray(documents) ? documents.map((d) => d.toJS() as unknown) : []).toEqual(expected);
    const jsonRun = await run("render", "-f", file, "-o", "json");
    expect((JSON.parse(jsonRun.stdout) as { items: unknown[] }).items).toEqual(expected);
  });

  it("reads JSON policy files", async () => {
    const file = writePolicyFile("policy.json", JSON.stringify(validBasePolicy()));
    const { code, stdout } = await run("render", "-f", file);
    expect(code).toBe(0);
    expect(kindsAndNames(stdout)).toHaveLength(3);
  });

  it("treats fields set to null as absent, as the API server does", async () => {
    const withNulls = withChanges(validBasePolicy(), {
      "spec.workload.template.command": null,
      "spec.scaling.metrics.memory": null,
    });
    const file = writePolicyFile("nulls.yaml", yamlOf(withNulls));
    const plain = writePolicyFile("plain.yaml", yamlOf(validBasePolicy()));
    const result = await run("render", "-f", file);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe((await run("render", "-f", plain)).stdout);
  });

  it("renders an HPA policy the same with KEDA absent", async () => {
    const installed = await run("render", "-f", example("4-hybrid-external.yaml"));
    const absent = await run("render", "-f", example("4-hybrid-external.yaml"), "--keda", "absent");
    expect(absent.code).toBe(0);
    expect(absent.stdout).toBe(installed.stdout);
  });
});

describe("render --kubernetes-version", () => {
  const policy = withChanges(validBasePolicy(), {
    "metadata.name": "tolerant",
    "spec.workload.template.shutdown": { drainSeconds: 0 },
    "spec.scaling.behavior": {
      scaleUp: { tolerance: 0.05, policies: [{ type: "Pods", value: 2, periodSeconds: 60 }] },
    },
  });

  it("renders what a cluster of that version takes, and says on stderr what it leaves out", async () => {
    const file = writePolicyFile("tolerant.yaml", yamlOf(policy));
    const newest = await run("render", "-f", file);
    expect(newest.code).toBe(0);
    expect(newest.stdout).toContain("tolerance:");
    expect(newest.stdout).toContain("sleep:");

    const oldest = await run("render", "-f", file, "--kubernetes-version", "v1.30.14");
    expect(oldest.code).toBe(0);
    expect(oldest.stdout).not.toContain("tolerance:");
    // A zero-second sleep needs 1.33: no hook waits as long.
    expect(oldest.stdout).not.toContain("lifecycle:");
    expect(oldest.stderr).toBe(
      `note: ${file} (tolerant): scaling.behavior.scaleUp.tolerance 0.05 is not applied: the HPA's tolerance ` +
        "field needs Kubernetes 1.35 or newer (the HPAConfigurableTolerance feature gate, off by default in 1.33 " +
        "and 1.34) and the cluster runs 1.30; the HPA controller's cluster-wide tolerance applies " +
        "(--horizontal-pod-autoscaler-tolerance, 0.1 by default)\n",
    );
    const same = await run("render", "-f", file, "--kubernetes-version", "1.35");
    expect(same.stdout).toBe(newest.stdout);
  });
});

describe("render: failures print no partial output", () => {
  it("fails a KEDA policy with KedaNotInstalled when KEDA is absent, even after a good file", async () => {
    const kedaFile = example("2-batch-rabbitmq.yaml");
    const { code, stdout, stderr } = await run(
      "render",
      "-f",
      example("1-realtime-inference.yaml"),
      "-f",
      kedaFile,
      "--keda",
      "absent",
    );
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain(`error: ${kedaFile}: batch-embeddings: KedaNotInstalled:`);
  });

  it("names the file and document of unparsable YAML", async () => {
    const file = writePolicyFile(
      "broken.yaml",
      yamlOf(validBasePolicy()) + "---\nspec:\n  replicas: [1, 2\n  scaling: {\n",
    );
    const { code, stdout, stderr } = await run("render", "-f", file);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toMatch(new RegExp(`^error: ${file}: document 2: `, "m"));
  });

  it("names the file, document, policy and path of an unknown field", async () => {
    const file = writePolicyFile(
      "unknown.yaml",
      yamlOf(
        validBasePolicy(),
        withChanges(validBasePolicy(), { "metadata.name": "typo", "spec.replica": 3 }),
      ),
    );
    const { code, stdout, stderr } = await run("render", "-f", file);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(`error: ${file}: document 2 (typo): spec.replica: unknown field\n`);
  });

  it("lists every rule violation with its field path", async () => {
    const file = writePolicyFile(
      "rules.yaml",
      yamlOf(
        withChanges(validBasePolicy(), { "spec.replicas": { min: 5, max: 2 } }),
        withChanges(validKedaBasePolicy(), { "spec.scaling.triggers.0.metadata.queueName": undefined }),
      ),
    );
    const { code, stdout, stderr } = await run("render", "-f", file, "-o", "json");
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr.trim().split("\n")).toEqual([
      `error: ${file}: document 1 (base-policy): spec.replicas.min: replicas.min must not exceed replicas.max`,
      `error: ${file}: document 2 (keda-base-policy): spec.scaling.triggers[0].metadata: rabbitmq triggers need metadata queueName, mode, value`,
    ]);
  });

  it("names a file that cannot be read", async () => {
    const missing = join(dir, "missing.yaml");
    const { code, stdout, stderr } = await run("render", "-f", missing);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain(`error: ${missing}: `);
  });

  it("refuses a file without policies", async () => {
    const file = writePolicyFile("empty.yaml", "---\n");
    const { code, stdout, stderr } = await run("render", "-f", file);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain("no MLAutoscalePolicy found");
  });
});

describe("flags and commands", () => {
  it.each([
    [["render"], "-f POLICY.yaml is required"],
    [["render", "-f", "x.yaml", "-o", "table"], "-o must be yaml or json"],
    [["render", "-f", "x.yaml", "--keda", "maybe"], "--keda must be installed or absent"],
    [["render", "-f", "x.yaml", "--kubernetes-version", "latest"], "must be a version such as 1.30"],
    [["render", "-f", "x.yaml", "--kubernetes-version", "1.29"], "1.29 is older than 1.30, the oldest"],
    [["render", "--frobnicate"], "error: "],
    [["deploy"], 'unknown command "deploy"'],
  ])("%j is a usage error", async (argv, message) => {
    const { code, stdout, stderr } = await run(...argv);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain(message);
  });

  it("prints help", async () => {
    const { code, stdout } = await run("render", "--help");
    expect(code).toBe(0);
    expect(stdout).toContain("Usage: mlautoscale render");
    expect((await run("help")).code).toBe(0);
  });

  it("prints the CRD", async () => {
    const { code, stdout } = await run("crd");
    expect(code).toBe(0);
    expect(stdout).toBe(renderCrdYaml());
  });
});
