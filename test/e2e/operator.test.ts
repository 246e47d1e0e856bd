// The operator as users install it: `helm install` of the chart, then the operator process running with
// the chart's ServiceAccount token (so the chart's RBAC is all it has), the examples applied and converging
// on the fake GPU nodes, garbage collection of a deleted policy's children, and `helm uninstall`.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import {
  addDemoNodes,
  applyExamples,
  compressTimes,
  examplePolicies,
  kubectlWith,
  localExamples,
  prepareLocalBrokers,
  removeDemoNodes,
} from "../../dev/demo.js";
import {
  clusterAddresses,
  createTestNamespace,
  deleteTestNamespace,
  kubectl,
  testBinDir,
  testKubeConfig,
  testKubeconfigPath,
} from "../support/cluster.js";
import {
  startOperatorProcess,
  writeTokenKubeconfig,
  type OperatorProcess,
} from "../support/operator-process.js";

const execFileAsync = promisify(execFile);
const REPO = resolve(import.meta.dirname, "../..");
const CHART = join(REPO, "config", "chart");
const RELEASE = "mlautoscale";
const INSTANCE_TYPE = "node.kubernetes.io/instance-type";
const WAIT = { timeout: 120_000, interval: 500 };
// What RBAC says when it refuses the ServiceAccount something (JSON-escaped in the operator's log). Other
// 403s are not a missing permission: a namespace of another test being deleted, whose policies an
// operator watching every namespace also sees, refuses new content to everybody.
const RBAC_REFUSAL =
  /forbidden: User \\?"system:serviceaccount:|cannot (get|list|watch|create|update|patch|delete) resource/;

async function helm(args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(join(testBinDir(), "helm"), [
    `--kubeconfig=${testKubeconfigPath()}`,
    ...args,
  ]);
  return stdout;
}

async function must(args: string[], namespace?: string): Promise<string> {
  const result = await kubectl(args, namespace === undefined ? {} : { namespace });
  expect(result.code, `kubectl ${args.join(" ")}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

/** The operator from source, authenticated only by a TokenRequest token of `serviceAccount`. */
async function startWithServiceAccount(
  serviceAccount: string,
  namespace: string,
  workDir: string,
  extraArgs: string[] = [],
): Promise<OperatorProcess> {
  const token = (await must(["create", "token", serviceAccount, "--duration=1h"], namespace)).trim();
  const cluster = testKubeConfig().getCurrentCluster();
  if (cluster === null) throw new Error("the test kubeconfig has no cluster");
  const kubeconfigPath = join(workDir, `${serviceAccount}.kubeconfig`);
  writeTokenKubeconfig(
    kubeconfigPath,
    { server: cluster.server, caData: cluster.caData },
    serviceAccount,
    token,
  );
  const operator = startOperatorProcess({
    cwd: REPO,
    args: [
      "--import",
      "tsx",
      "src/cli.ts",
      "operator",
      `--kubeconfig=${kubeconfigPath}`,
      "--leader-elect=true",
      "--metrics-port=0",
      "--bind-address=127.0.0.1",
      ...extraArgs,
    ],
    // As the chart's Deployment sets it from the downward API.
    env: { POD_NAMESPACE: namespace },
  });
  await operator.metricsPort();
  return operator;
}

interface PolicyFile {
  metadata: { name: string };
  spec: { placement?: { gpuInstanceTypes?: string[] } };
}

/** Every bound pod of the examples in `namespace`: its policy and its node. */
async function podPlacements(namespace: string): Promise<{ policy: string; node: string }[]> {
  const pods = JSON.parse(
    await must(["get", "pods", "-l", "mlautoscale.io/policy", "-o", "json"], namespace),
  ) as {
    items: { metadata: { labels: Record<string, string> }; spec: { nodeName?: string } }[];
  };
  return pods.items.flatMap((pod) =>
    pod.spec.nodeName === undefined
      ? []
      : [{ policy: pod.metadata.labels["mlautoscale.io/policy"] ?? "", node: pod.spec.nodeName }],
  );
}

let placedPods: { policy: string; node: string }[] = [];

describe("operator installed with Helm, running with the chart's ServiceAccount", () => {
  let releaseNamespace = "";
  let appNamespace = "";
  let workDir = "";
  let operator: OperatorProcess | undefined;
  let serviceAccount = "";

  beforeAll(async () => {
    releaseNamespace = await createTestNamespace("mlautoscale-system");
    appNamespace = await createTestNamespace("ml-workloads");
    workDir = mkdtempSync(join(tmpdir(), "mlautoscale-e2e-"));
    await addDemoNodes(testKubeConfig());
  });

  afterAll(async () => {
    await operator?.stop();
    await helm(["uninstall", RELEASE, `--namespace=${releaseNamespace}`]).catch(() => undefined);
    // Later test files count the GPUs in use on the shared nodes: wait until these pods are gone.
    for (const namespace of [appNamespace, releaseNamespace]) {
      if (!namespace) continue;
      await deleteTestNamespace(namespace);
      await kubectl(["wait", "--for=delete", `namespace/${namespace}`, "--timeout=120s"]);
    }
    await removeDemoNodes(testKubeConfig());
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it("installs with helm", async () => {
    const installed = await helm(["install", RELEASE, CHART, `--namespace=${releaseNamespace}`]);
    // NOTES.txt: how to apply an example and watch it.
    expect(installed).toContain("kubectl apply -n <namespace> -f examples/1-realtime-inference.yaml");
    expect(installed).toContain("kubectl get mlap -A -w");
    const status = await helm(["status", RELEASE, `--namespace=${releaseNamespace}`, "-o", "json"]);
    expect((JSON.parse(status) as { info: { status: string } }).info.status).toBe("deployed");
    serviceAccount = (await must(["get", "serviceaccounts", "-o", "name"], releaseNamespace))
      .split("\n")
      .map((line) => line.replace("serviceaccount/", ""))
      .filter((name) => name.startsWith(RELEASE))
      .join("");
    expect(serviceAccount).toBe(RELEASE);
    await must(["get", "crd", "mlautoscalepolicies.mlautoscale.io"]);
  });

  it("gives the ServiceAccount what the operator needs and no Secrets", async () => {
    const as = `--as=system:serviceaccount:${releaseNamespace}:${serviceAccount}`;
    const canI = async (...args: string[]): Promise<string> =>
      (await kubectl(["auth", "can-i", as, ...args])).stdout.trim();
    expect(await canI("get", "secrets", "-n", appNamespace)).toBe("no");
    expect(await canI("list", "secrets", "--all-namespaces")).toBe("no");
    expect(await canI("get", "secrets", "-n", releaseNamespace)).toBe("no");
    expect(await canI("watch", "mlautoscalepolicies.mlautoscale.io", "-n", appNamespace)).toBe("yes");
    expect(await canI("create", "deployments.apps", "-n", appNamespace)).toBe("yes");
    expect(await canI("patch", "deployments.apps", "--subresource=scale", "-n", appNamespace)).toBe("yes");
    expect(await canI("create", "statefulsets.apps", "-n", appNamespace)).toBe("no");
    expect(await canI("delete", "scaledobjects.keda.sh", "-n", appNamespace)).toBe("yes");
    expect(await canI("update", "mlautoscalepolicies.mlautoscale.io", "-n", appNamespace)).toBe("no");
    expect(await canI("create", "leases.coordination.k8s.io", "-n", releaseNamespace)).toBe("yes");
    expect(await canI("create", "leases.coordination.k8s.io", "-n", appNamespace)).toBe("no");
  });

  it("reconciles the examples to Ready with only the ServiceAccount's token", async () => {
    operator = await startWithServiceAccount(serviceAccount, releaseNamespace, workDir);

    const adminKubectl = kubectlWith(join(testBinDir(), "kubectl"), testKubeconfigPath());
    // The examples as the local cluster runs them (its Prometheus, brokers and SQS endpoint), their model
    // load times and windows a tenth of the real ones.
    const documents = localExamples(clusterAddresses()).map((d) => compressTimes(d, 10));
    await prepareLocalBrokers(adminKubectl, appNamespace, documents, clusterAddresses());
    await applyExamples(adminKubectl, appNamespace, documents);
    const waited = await kubectl(["wait", "--for=condition=Ready", "mlap", "--all", "--timeout=180s"], {
      namespace: appNamespace,
    });
    expect(waited.code, `${waited.stderr}\n${operator.output()}`).toBe(0);
    expect(waited.stdout.trim().split("\n")).toHaveLength(5);
    placedPods = await podPlacements(appNamespace);

    // It led through the Lease in its own namespace, and the API server refused it nothing.
    const lease = JSON.parse(
      await must(["get", "lease", "mlautoscale-operator", "-o", "json"], releaseNamespace),
    ) as {
      spec: { holderIdentity?: string };
    };
    expect(lease.spec.holderIdentity).toBeTruthy();
    // RBAC's refusals name the user; other 403s (a namespace of another test being deleted, whose
    // policies this operator also watches) are the API server's, not a missing permission.
    expect(operator.output()).toContain("became leader");
    expect(operator.output()).not.toMatch(RBAC_REFUSAL);
  });

  it("runs each policy's pods on the GPU nodes of the instance types it names", async () => {
    const nodes = JSON.parse(await must(["get", "nodes", "-o", "json"])) as {
      items: { metadata: { name: string; labels: Record<string, string> } }[];
    };
    const instanceTypeOf = new Map(
      nodes.items.map((node) => [node.metadata.name, node.metadata.labels[INSTANCE_TYPE]]),
    );
    // The pods bound when every policy was Ready, and those bound now: a scale-to-zero policy may have
    // none left by the time this runs.
    const placed = [...placedPods, ...(await podPlacements(appNamespace))];
    for (const example of examplePolicies()) {
      const policy = parse(readFileSync(example.file, "utf8")) as PolicyFile;
      const allowed = policy.spec.placement?.gpuInstanceTypes ?? [];
      expect(allowed.length, example.name).toBeGreaterThan(0);
      const pods = placed.filter((pod) => pod.policy === example.name);
      expect(pods.length, example.name).toBeGreaterThan(0);
      for (const pod of pods) {
        expect(allowed, `${example.name} on ${pod.node}`).toContain(instanceTypeOf.get(pod.node));
      }
    }
  });

  it("shows the printer columns in kubectl get mlap", async () => {
    const table = await must(["get", "mlap"], appNamespace);
    const [header, ...rows] = table.trim().split("\n");
    expect(header?.trim().split(/\s+/)).toEqual(["NAME", "ENGINE", "MIN", "MAX", "REPLICAS", "READY", "AGE"]);
    const byName = new Map(rows.map((row) => [row.split(/\s+/)[0], row.split(/\s+/)]));
    expect(byName.get("resnet50-inference")?.slice(1, 4)).toEqual(["HPA", "2", "10"]);
    expect(byName.get("batch-embeddings")?.slice(1, 4)).toEqual(["KEDA", "0", "20"]);
    for (const row of byName.values()) expect(row[5]).toBe("True");
  });

  it("garbage-collects the children of a deleted policy", async () => {
    const name = "resnet50-inference";
    for (const kind of ["deployment", "hpa", "pdb"]) await must(["get", kind, name], appNamespace);
    await must(["delete", "mlap", name, "--wait=true"], appNamespace);
    await vi.waitFor(async () => {
      for (const kind of ["deployment", "hpa", "pdb"]) {
        const got = await kubectl(["get", kind, name, "--ignore-not-found", "-o", "name"], {
          namespace: appNamespace,
        });
        expect(got.stdout.trim(), kind).toBe("");
      }
      const pods = await must(
        ["get", "pods", "-l", `mlautoscale.io/policy=${name}`, "-o", "name"],
        appNamespace,
      );
      expect(pods.trim()).toBe("");
    }, WAIT);
    // The other policies keep theirs.
    await must(["get", "deployment", "hybrid-ranker"], appNamespace);
  });

  it("leaves the CRD and the policies in place on helm uninstall", async () => {
    expect(await operator?.stop()).toBe(0);
    await helm(["uninstall", RELEASE, `--namespace=${releaseNamespace}`, "--wait"]);
    await must(["get", "crd", "mlautoscalepolicies.mlautoscale.io"]);
    const left = (await must(["get", "mlap", "-o", "name"], appNamespace)).trim().split("\n").sort();
    expect(left).toEqual([
      "mlautoscalepolicy.mlautoscale.io/batch-embeddings",
      "mlautoscalepolicy.mlautoscale.io/finetune-workers",
      "mlautoscalepolicy.mlautoscale.io/hybrid-ranker",
      "mlautoscalepolicy.mlautoscale.io/llama-chat",
    ]);
    const deployments = await must(["get", "deployments", "-o", "name"], releaseNamespace);
    expect(deployments.trim()).toBe("");
  });
});

describe("operator installed with Helm for chosen namespaces only", () => {
  const release = "mlautoscale-scoped";
  let releaseNamespace = "";
  let watched = "";
  let unwatched = "";
  let workDir = "";
  let operator: OperatorProcess | undefined;

  beforeAll(async () => {
    releaseNamespace = await createTestNamespace("mlautoscale-scoped");
    watched = await createTestNamespace("ml-watched");
    unwatched = await createTestNamespace("ml-unwatched");
    workDir = mkdtempSync(join(tmpdir(), "mlautoscale-e2e-scoped-"));
  });

  afterAll(async () => {
    await operator?.stop();
    await helm(["uninstall", release, `--namespace=${releaseNamespace}`]).catch(() => undefined);
    for (const namespace of [watched, unwatched, releaseNamespace]) {
      if (!namespace) continue;
      await deleteTestNamespace(namespace);
      await kubectl(["wait", "--for=delete", `namespace/${namespace}`, "--timeout=120s"]);
    }
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it("reconciles policies in the watched namespace with Roles there and, cluster-wide, one read", async () => {
    await helm([
      "install",
      release,
      CHART,
      `--namespace=${releaseNamespace}`,
      `--set=watchNamespaces={${watched}}`,
    ]);
    const as = `--as=system:serviceaccount:${releaseNamespace}:${release}`;
    const canI = async (...args: string[]): Promise<string> =>
      (await kubectl(["auth", "can-i", as, ...args])).stdout.trim();
    expect(await canI("create", "deployments.apps", "-n", watched)).toBe("yes");
    expect(await canI("create", "deployments.apps", "-n", unwatched)).toBe("no");
    expect(await canI("list", "deployments.apps", "--all-namespaces")).toBe("no");
    expect(await canI("get", "secrets", "-n", watched)).toBe("no");
    // Which server holds the external metrics API is cluster-level: that one APIService, read only.
    expect(await canI("get", "apiservices.apiregistration.k8s.io/v1beta1.external.metrics.k8s.io")).toBe(
      "yes",
    );
    expect(await canI("get", "apiservices.apiregistration.k8s.io/v1beta1.metrics.k8s.io")).toBe("no");
    expect(await canI("list", "apiservices.apiregistration.k8s.io")).toBe("no");

    operator = await startWithServiceAccount(release, releaseNamespace, workDir, [`--namespaces=${watched}`]);
    const example = join(REPO, "examples", "2-batch-rabbitmq.yaml");
    await must(["apply", "-f", example], watched);
    await must(["apply", "-f", example], unwatched);
    const waited = await kubectl(["wait", "--for=condition=Ready", "mlap", "--all", "--timeout=120s"], {
      namespace: watched,
    });
    expect(waited.code, `${waited.stderr}\n${operator.output()}`).toBe(0);
    expect(operator.output()).toContain("became leader");
    expect(operator.output()).not.toMatch(RBAC_REFUSAL);

    // The policy outside the watched namespaces is left alone: no status, no children.
    const ignored = JSON.parse(await must(["get", "mlap", "batch-embeddings", "-o", "json"], unwatched)) as {
      status?: unknown;
    };
    expect(ignored.status).toBeUndefined();
    expect((await must(["get", "deployments", "-o", "name"], unwatched)).trim()).toBe("");
  });
});
