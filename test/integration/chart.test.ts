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
const ADMISSION_MANIFEST = join(REPO, "config", "admission", "policy-author-rights.yaml");
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
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
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

const AGGREGATE_LABEL = "rbac.authorization.k8s.io/aggregate-to-";

function aggregatesInto(role: Rendered): string[] {
  const labels = role.metadata.labels ?? {};
  return Object.entries(labels)
    .filter(([key, value]) => key.startsWith(AGGREGATE_LABEL) && value === "true")
    .map(([key]) => key.slice(AGGREGATE_LABEL.length))
    .sort();
}

/** The operator's own ClusterRoles: not those that fold into the users' view, edit and admin. */
function operatorClusterRoles(objects: Rendered[]): Rendered[] {
  return objects.filter((object) => object.kind === "ClusterRole" && aggregatesInto(object).length === 0);
}

/** Helm's release labels, which the plain manifests under config/ do not carry. */
const RELEASE_LABELS = [
  "helm.sh/chart",
  "app.kubernetes.io/instance",
  "app.kubernetes.io/version",
  "app.kubernetes.io/managed-by",
];

function withoutReleaseLabels(object: Rendered): Rendered {
  const labels = Object.fromEntries(
    Object.entries(object.metadata.labels ?? {}).filter(([key]) => !RELEASE_LABELS.includes(key)),
  );
  return { ...object, metadata: { ...object.metadata, labels } };
}

interface AdmissionPolicy extends Rendered {
  spec: {
    failurePolicy: string;
    variables: { name: string; expression: string }[];
    validations: { expression: string; messageExpression?: string }[];
  };
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
      "ClusterRole",
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
      "ValidatingAdmissionPolicy",
      "ValidatingAdmissionPolicyBinding",
    ]);
    const clusterScoped = [
      "ClusterRole",
      "ClusterRoleBinding",
      "ValidatingAdmissionPolicy",
      "ValidatingAdmissionPolicyBinding",
    ];
    for (const object of objects) {
      if (!clusterScoped.includes(object.kind)) {
        expect(object.metadata.namespace, object.kind).toBe(releaseNamespace);
      }
    }

    const clusterRoles = operatorClusterRoles(objects);
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
    const clusterRoles = operatorClusterRoles(objects);
    expect(clusterRoles.map(rulesOf)).toEqual([METRICS_APIS_RULES]);
    // The admission policy is bound only where this release's operator acts.
    const binding = only(objects, "ValidatingAdmissionPolicyBinding") as Rendered & {
      spec: { matchResources?: unknown };
    };
    expect(binding.spec.matchResources).toEqual({
      namespaceSelector: {
        matchExpressions: [
          { key: "kubernetes.io/metadata.name", operator: "In", values: [watchedA, watchedB] },
        ],
      },
    });
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

  it("renders without leader election, PDB, RBAC or admission policy when they are turned off", async () => {
    const objects = await template(releaseNamespace, [
      "--set=leaderElection.enabled=false",
      "--set=replicaCount=1",
      "--set=podDisruptionBudget.enabled=false",
      "--set=rbac.create=false",
      "--set=admissionPolicy.enabled=false",
    ]);
    expect(objects.map((object) => object.kind).sort()).toEqual(["Deployment", "Service", "ServiceAccount"]);
    expect(operatorContainer(objects).args).toContain("--leader-elect=false");
    await dryRun(objects);
  });

  it("ships config/admission/ as the chart's admission policy with default values, which the API server accepts", async () => {
    const fromChart = (await template("mlautoscale-system", [])).filter((object) =>
      object.kind.startsWith("ValidatingAdmissionPolicy"),
    );
    const manifest = parseAllDocuments(readFileSync(ADMISSION_MANIFEST, "utf8"))
      .map((document) => document.toJS() as Rendered | null)
      .filter((object): object is Rendered => object !== null);
    expect(manifest).toEqual(fromChart.map(withoutReleaseLabels));
    const policy = only(manifest, "ValidatingAdmissionPolicy") as AdmissionPolicy;
    expect(policy.spec.failurePolicy).toBe("Fail");
    expect(policy.spec.variables.find((v) => v.name === "allowedEndpoints")?.expression).toBe("[]");
    // Message expressions run without the authorizer: one that called it would only ever fail.
    for (const validation of policy.spec.validations) {
      expect(validation.messageExpression ?? "").not.toContain("authorizer");
      expect(validation.messageExpression ?? "").not.toContain("mayGetEverySecret");
    }
    await dryRun(manifest);
  });

  it("templates the trigger endpoint allow-list into the admission policy and the operator's flag", async () => {
    const allowed = ["*.svc.cluster.local", "sqs.eu-west-1.amazonaws.com:443"];
    const objects = await template(releaseNamespace, [
      `--set=triggerEndpoints.allowed={${allowed.join(",")}}`,
    ]);
    const policy = only(objects, "ValidatingAdmissionPolicy") as AdmissionPolicy;
    expect(policy.spec.variables.find((v) => v.name === "allowedEndpoints")?.expression).toBe(
      JSON.stringify(allowed),
    );
    expect(operatorContainer(objects).args).toContain(`--allowed-trigger-endpoints=${allowed.join(",")}`);
    expect(operatorContainer(await template(releaseNamespace, [])).args.join(" ")).not.toContain(
      "--allowed-trigger-endpoints",
    );
    await dryRun(objects.filter((object) => object.kind.startsWith("ValidatingAdmissionPolicy")));
  });

  it("templates the labels to propagate into the operator's flag", async () => {
    const objects = await template(releaseNamespace, ["--set=operator.propagateLabels={team,example.com/}"]);
    expect(operatorContainer(objects).args).toContain("--propagate-labels=team,example.com/");
    expect(operatorContainer(await template(releaseNamespace, [])).args.join(" ")).not.toContain(
      "--propagate-labels",
    );
  });

  it("folds policy rights into Kubernetes' view, edit and admin, unless turned off", async () => {
    const objects = await template(releaseNamespace, []);
    const userRoles = objects.filter(
      (object) => object.kind === "ClusterRole" && aggregatesInto(object).length,
    );
    const byName = Object.fromEntries(userRoles.map((role) => [role.metadata.name, role]));
    expect(Object.keys(byName).sort()).toEqual(["mlautoscale-admin", "mlautoscale-edit", "mlautoscale-view"]);
    const view = byName["mlautoscale-view"] as Rendered;
    const edit = byName["mlautoscale-edit"] as Rendered;
    const admin = byName["mlautoscale-admin"] as Rendered;
    expect(aggregatesInto(view)).toEqual(["admin", "edit", "view"]);
    expect(aggregatesInto(edit)).toEqual(["admin", "edit"]);
    expect(aggregatesInto(admin)).toEqual(["admin"]);
    expect(rulesOf(view)).toEqual([
      {
        apiGroups: ["mlautoscale.io"],
        resources: ["mlautoscalepolicies", "mlautoscalepolicies/status"],
        verbs: ["get", "list", "watch"],
      },
    ]);
    for (const role of [edit, admin]) {
      const policyVerbs = rulesOf(role)
        .filter((rule) => rule.resources?.includes("mlautoscalepolicies"))
        .flatMap((rule) => rule.verbs);
      expect(policyVerbs.sort()).toEqual(
        ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"].sort(),
      );
      // The status is the operator's to write.
      const statusVerbs = rulesOf(role)
        .filter((rule) => rule.resources?.includes("mlautoscalepolicies/status"))
        .flatMap((rule) => rule.verbs);
      expect(statusVerbs.sort()).toEqual(["get", "list", "watch"]);
    }
    const without = await template(releaseNamespace, ["--set=rbac.aggregatedRoles=false"]);
    expect(without.filter((object) => aggregatesInto(object).length > 0)).toEqual([]);
  });

  it("refuses clusters older than 1.30, the oldest the operator supports, with or without the admission policy", async () => {
    for (const values of [[], ["--set=admissionPolicy.enabled=false"]]) {
      const old = await helm(["template", "mlautoscale", CHART, "--kube-version=1.29.9", ...values]);
      expect(old.code).not.toBe(0);
      expect(old.stderr).toContain(
        "chart requires kubeVersion: >=1.30.0-0 which is incompatible with Kubernetes v1.29.9",
      );
    }
    // Managed clusters report versions such as v1.30.5-eks-ce1d5eb.
    const managed = await helm(["template", "mlautoscale", CHART, "--kube-version=v1.30.5-eks-ce1d5eb"]);
    expect(managed.code, managed.stderr).toBe(0);
  });

  it("rejects values that the schema forbids", async () => {
    for (const values of [
      ["--set=replicaCount=-1"],
      ["--set=watchNamespaces={Not_A_Namespace}"],
      ["--set=operator.logLevel=verbose"],
      ["--set=unknownKey=true"],
      ["--set=triggerEndpoints.allowed={http://prometheus:9090}"],
      ["--set=triggerEndpoints.allowed={Upper.Case}"],
      ["--set=admissionPolicy.enabeld=true"],
      ["--set=operator.propagateLabels={team search}"],
    ]) {
      const result = await helm(["template", "mlautoscale", CHART, ...values]);
      expect(result.code, values.join(" ")).not.toBe(0);
      expect(result.stderr, values.join(" ")).toContain("values don't meet the specifications of the schema");
    }
  });
});
