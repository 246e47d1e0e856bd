// The Helm chart: lint, render with several value sets, and have the real API server accept every object
// (server-side dry run).
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { createTestNamespace, deleteTestNamespace, kubectl, testBinDir } from "../support/cluster.js";

const execFileAsync = promisify(execFile);
const REPO = resolve(import.meta.dirname, "../..");
const CHART = join(REPO, "config", "chart");
const CRD_FILE = join(REPO, "crds", "mlautoscale.io_mlautoscalepolicies.yaml");
/** The operator's only cluster-wide right in every install: reading who holds the external metrics API. */
const METRICS_APIS_RULES = [
  {
    apiGroups: ["apiregistration.k8s.io"],
    resources: ["apiservices"],
    resourceNames: ["v1beta1.external.metrics.k8s.io"],
    verbs: ["get"],
  },
];

interface Rendered {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [field: string]: unknown;
}

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}

interface Container {
  args: string[];
  env: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  securityContext: Record<string, unknown>;
  livenessProbe: { httpGet: { path: string } };
  readinessProbe: { httpGet: { path: string } };
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
}

async function helm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(join(testBinDir(), "helm"), args, {
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof code === "number" ? code : -1, stdout: stdout ?? "", stderr: stderr ?? "" };
  }
}

async function template(namespace: string, values: string[]): Promise<Rendered[]> {
  const result = await helm(["template", "mlautoscale", CHART, `--namespace=${namespace}`, ...values]);
  expect(result.code, result.stderr).toBe(0);
  return parseAllDocuments(result.stdout)
    .map((document) => document.toJS() as Rendered | null)
    .filter((object): object is Rendered => object !== null);
}

function only(objects: Rendered[], kind: string): Rendered {
  const found = objects.filter((object) => object.kind === kind);
  expect(
    found.map((object) => object.metadata.name),
    kind,
  ).toHaveLength(1);
  return found[0] as Rendered;
}

function operatorContainer(objects: Rendered[]): Container {
  const deployment = only(objects, "Deployment") as Rendered & {
    spec: { replicas: number; template: { spec: { containers: Container[] } } };
  };
  const [container] = deployment.spec.template.spec.containers;
  if (container === undefined) throw new Error("the Deployment has no container");
  return container;
}

function rulesOf(role: Rendered): PolicyRule[] {
  return (role as Rendered & { rules: PolicyRule[] }).rules;
}

/** Server-side dry run of every object; the server's verdict per object. */
async function dryRun(objects: Rendered[]): Promise<void> {
  const input = objects.map((object) => JSON.stringify(object)).join("\n---\n");
  const result = await kubectl(["apply", "--dry-run=server", "-f", "-"], { input });
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  const accepted = result.stdout.trim().split("\n");
  expect(accepted).toHaveLength(objects.length);
  for (const line of accepted) expect(line).toMatch(/\((server dry run)\)$/);
}

describe("Helm chart", () => {
  let releaseNamespace = "";
  let watchedA = "";
  let watchedB = "";

  beforeAll(async () => {
    releaseNamespace = await createTestNamespace("chart-release");
    watchedA = await createTestNamespace("chart-watched-a");
    watchedB = await createTestNamespace("chart-watched-b");
  });

  afterAll(async () => {
    for (const namespace of [releaseNamespace, watchedA, watchedB]) {
      if (namespace) await deleteTestNamespace(namespace);
    }
  });

  it("passes helm lint with default and non-default values", async () => {
    const defaults = await helm(["lint", "--strict", CHART]);
    expect(defaults.code, defaults.stdout + defaults.stderr).toBe(0);
    const custom = await helm([
      "lint",
      "--strict",
      CHART,
      "--set=watchNamespaces={team-a,team-b}",
      "--set=metrics.serviceMonitor.enabled=true",
    ]);
    expect(custom.code, custom.stdout + custom.stderr).toBe(0);
  });

  it("ships the generated CRD from crds/, byte for byte", async () => {
    const workDir = mkdtempSync(join(tmpdir(), "mlautoscale-chart-"));
    try {
      const packaged = await helm(["package", CHART, `--destination=${workDir}`]);
      expect(packaged.code, packaged.stderr).toBe(0);
      await execFileAsync("tar", ["-xzf", join(workDir, "mlautoscale-0.1.0.tgz"), "-C", workDir]);
      const shipped = readFileSync(
        join(workDir, "mlautoscale", "crds", "mlautoscale.io_mlautoscalepolicies.yaml"),
      );
      expect(shipped.equals(readFileSync(CRD_FILE))).toBe(true);
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });

  it("renders a cluster-wide install by default, which the API server accepts", async () => {
    const objects = await template(releaseNamespace, []);
    expect(objects.map((object) => object.kind).sort()).toEqual([
      "ClusterRole",
      "ClusterRole",
      "ClusterRoleBinding",
      "ClusterRoleBinding",
      "Deployment",
      "PodDisruptionBudget",
      "Role",
      "RoleBinding",
      "Service",
      "ServiceAccount",
    ]);
    for (const object of objects) {
      if (object.kind !== "ClusterRole" && object.kind !== "ClusterRoleBinding") {
        expect(object.metadata.namespace, object.kind).toBe(releaseNamespace);
      }
    }

    const clusterRoles = objects.filter((object) => object.kind === "ClusterRole");
    expect(clusterRoles.filter((role) => role.metadata.name.endsWith("-metrics-apis")).map(rulesOf)).toEqual([
      METRICS_APIS_RULES,
    ]);
    const clusterRules = rulesOf(
      only(
        clusterRoles.filter((role) => !role.metadata.name.endsWith("-metrics-apis")),
        "ClusterRole",
      ),
    );
    const resources = clusterRules.flatMap((rule) => rule.resources ?? []);
    expect(resources).not.toContain("secrets");
    expect(resources).not.toContain("*");
    expect(clusterRules.flatMap((rule) => rule.verbs)).not.toContain("*");
    // Server-side apply of a missing object is a create.
    for (const kind of ["deployments", "horizontalpodautoscalers", "poddisruptionbudgets", "scaledobjects"]) {
      const verbs = clusterRules
        .filter((rule) => rule.resources?.includes(kind))
        .flatMap((rule) => rule.verbs);
      expect(verbs, kind).toEqual(
        expect.arrayContaining(["get", "list", "watch", "create", "patch", "delete"]),
      );
    }
    const statefulSetVerbs = clusterRules
      .filter((rule) => rule.resources?.includes("statefulsets"))
      .flatMap((rule) => rule.verbs);
    expect(statefulSetVerbs.sort()).toEqual(["get", "list", "watch"]);

    const leaseRules = rulesOf(only(objects, "Role"));
    expect(leaseRules.flatMap((rule) => rule.resources ?? [])).toEqual(["leases", "leases"]);

    const deployment = only(objects, "Deployment") as Rendered & {
      spec: { replicas: number; template: { spec: { securityContext: Record<string, unknown> } } };
    };
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.template.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      seccompProfile: { type: "RuntimeDefault" },
    });
    const container = operatorContainer(objects);
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container.livenessProbe.httpGet.path).toBe("/healthz");
    expect(container.readinessProbe.httpGet.path).toBe("/readyz");
    expect(container.resources.requests).toBeDefined();
    expect(container.args[0]).toBe("operator");
    expect(container.args).toContain("--leader-elect=true");
    expect(container.args.some((arg) => arg.startsWith("--namespaces"))).toBe(false);
    expect(
      container.env.find((variable) => variable.name === "POD_NAMESPACE")?.valueFrom?.fieldRef?.fieldPath,
    ).toBe("metadata.namespace");

    await dryRun(objects);
  });

  it("renders Roles in the watched namespaces only, and a ServiceMonitor when asked", async () => {
    const objects = await template(releaseNamespace, [
      `--set=watchNamespaces={${watchedA},${watchedB}}`,
      "--set=metrics.serviceMonitor.enabled=true",
      "--set=replicaCount=3",
      "--set=operator.logLevel=debug",
      "--set=serviceAccount.name=custom-operator",
    ]);
    // Cluster-wide, only the read of the one APIService that says who serves the external metrics API.
    const clusterRoles = objects.filter((object) => object.kind === "ClusterRole");
    expect(clusterRoles.map(rulesOf)).toEqual([METRICS_APIS_RULES]);
    expect(objects.filter((object) => object.kind === "ClusterRoleBinding")).toHaveLength(1);
    const roles = objects.filter((object) => object.kind === "Role");
    expect(roles.map((role) => role.metadata.namespace).sort()).toEqual(
      [watchedA, watchedB, releaseNamespace].sort(),
    );
    for (const role of roles) {
      expect(rulesOf(role).flatMap((rule) => rule.resources ?? [])).not.toContain("secrets");
    }
    const bindings = objects.filter((object) => object.kind === "RoleBinding") as (Rendered & {
      subjects: { name: string; namespace: string }[];
    })[];
    for (const binding of bindings) {
      expect(binding.subjects).toEqual([
        { kind: "ServiceAccount", name: "custom-operator", namespace: releaseNamespace },
      ]);
    }
    const container = operatorContainer(objects);
    expect(container.args).toContain(`--namespaces=${watchedA},${watchedB}`);
    expect(container.args).toContain("--log-level=debug");

    const serviceMonitor = only(objects, "ServiceMonitor") as Rendered & {
      spec: { endpoints: { port: string; path: string }[] };
    };
    expect(serviceMonitor.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(serviceMonitor.spec.endpoints).toEqual([
      expect.objectContaining({ port: "metrics", path: "/metrics" }),
    ]);

    // The Prometheus Operator's CRDs are not installed in the test cluster, so the API server has no
    // ServiceMonitor kind: everything else goes through the dry run.
    await dryRun(objects.filter((object) => object.kind !== "ServiceMonitor"));
  });

  it("renders without leader election, PDB or RBAC when they are turned off", async () => {
    const objects = await template(releaseNamespace, [
      "--set=leaderElection.enabled=false",
      "--set=replicaCount=1",
      "--set=podDisruptionBudget.enabled=false",
      "--set=rbac.create=false",
    ]);
    expect(objects.map((object) => object.kind).sort()).toEqual(["Deployment", "Service", "ServiceAccount"]);
    expect(operatorContainer(objects).args).toContain("--leader-elect=false");
    await dryRun(objects);
  });

  it("rejects values that the schema forbids", async () => {
    for (const values of [
      ["--set=replicaCount=-1"],
      ["--set=watchNamespaces={Not_A_Namespace}"],
      ["--set=operator.logLevel=verbose"],
      ["--set=unknownKey=true"],
    ]) {
      const result = await helm(["template", "mlautoscale", CHART, ...values]);
      expect(result.code, values.join(" ")).not.toBe(0);
      expect(result.stderr, values.join(" ")).toContain("values don't meet the specifications of the schema");
    }
  });
});
