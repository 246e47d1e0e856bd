// The operator as a process: leader election between two replicas, SIGTERM, KEDA appearing while it
// runs, and the API server restarting under it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { KubeConfig } from "@kubernetes/client-node";
import type { V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { startControlPlane, type ControlPlane } from "../../dev/controlplane/index.js";
import { KubeRestClient } from "../../src/runtime/rest.js";
import type { PolicyStatus } from "../../src/api/v1alpha1/index.js";
import { validBasePolicy, validKedaBasePolicy, type JsonObject } from "../fixtures/invalid-policies.js";
import { createTestNamespace, kubectl, testKubeConfig, testKubeconfigPath } from "../support/cluster.js";
import { eventually, startOperator, type InProcessOperator, getIfExists } from "../support/operator.js";
import { ApiProxy } from "../support/api-proxy.js";
import {
  startOperatorFromSource,
  writeTokenKubeconfig,
  type OperatorProcess,
} from "../support/operator-process.js";

type Policy = { metadata: { generation?: number }; status?: PolicyStatus };
interface Lease {
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number };
}

const processes: OperatorProcess[] = [];
afterEach(async () => {
  for (const p of processes.splice(0)) {
    p.kill("SIGKILL");
    await p.exited();
  }
});

const getJson = getIfExists;

function policy(name: string, max = 10): JsonObject {
  const p = validBasePolicy();
  (p["metadata"] as JsonObject)["name"] = name;
  ((p["spec"] as JsonObject)["replicas"] as JsonObject)["max"] = max;
  return p;
}

function reconciled(p: Policy | undefined): boolean {
  const c = p?.status?.conditions?.find((x) => x.type === "Reconciled");
  return c?.status === "True" && p?.status?.observedGeneration === p?.metadata.generation;
}

describe("operator processes", () => {
  let rest: KubeRestClient;
  beforeAll(() => {
    rest = new KubeRestClient(testKubeConfig());
  });

  const operatorArgs = (ns: string): string[] => [
    `--kubeconfig=${testKubeconfigPath()}`,
    `--namespaces=${ns}`,
    `--leader-election-namespace=${ns}`,
    "--leader-election-id=mlautoscale-test",
    "--metrics-port=0",
    "--bind-address=127.0.0.1",
    "--log-level=info",
  ];

  it("elects one leader; the other replica takes over after the leader is killed", async () => {
    const ns = await createTestNamespace("leader");
    const first = startOperatorFromSource(operatorArgs(ns));
    const second = startOperatorFromSource(operatorArgs(ns));
    processes.push(first, second);
    const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/mlautoscale-test`;
    const holder = await eventually(
      async () => (await getJson<Lease>(rest, leasePath))?.spec?.holderIdentity || undefined,
      "a leader",
    );
    await eventually(
      () => (/controllers started/.test(first.output() + second.output()) ? true : undefined),
      "controllers to start",
    );
    const [leader, follower] = /controllers started/.test(first.output()) ? [first, second] : [second, first];
    expect(leader.output()).toContain(holder);
    expect(follower.output()).not.toMatch(/controllers started/);

    const policyPath = `/apis/mlautoscale.io/v1alpha1/namespaces/${ns}/mlautoscalepolicies/svc`;
    await kubectl(["apply", "-f", "-"], { namespace: ns, input: stringify(policy("svc")) });
    await eventually(
      async () => (reconciled(await getJson<Policy>(rest, policyPath)) ? true : undefined),
      "the leader to reconcile",
    );

    leader.kill("SIGKILL");
    await leader.exited();
    // The follower takes the lease once it has not been renewed for a lease duration (15 s).
    await follower.waitForOutput(/controllers started/, 40_000);
    const newHolder = await eventually(async () => {
      const h = (await getJson<Lease>(rest, leasePath))?.spec?.holderIdentity;
      return h !== undefined && h !== holder ? h : undefined;
    }, "the lease to change hands");
    expect(follower.output()).toContain(newHolder);

    await kubectl(["apply", "-f", "-"], { namespace: ns, input: stringify(policy("svc", 6)) });
    await eventually(async () => {
      const hpa = await getJson<V2HorizontalPodAutoscaler>(
        rest,
        `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/svc`,
      );
      return hpa?.spec?.maxReplicas === 6 ? true : undefined;
    }, "the new leader to reconcile");
  });

  it("a leader whose lease renewal hangs stops writing before the next leader's first write, and exits 1", async () => {
    const ns = await createTestNamespace("fence");
    const dir = mkdtempSync(join(tmpdir(), "mlautoscale-fence-"));
    const proxies = [new ApiProxy(testKubeConfig()), new ApiProxy(testKubeConfig())] as const;
    const [oldProxy, newProxy] = proxies;
    try {
      const kubeconfigs = await Promise.all(
        proxies.map(async (proxy, index) => {
          const path = join(dir, `kubeconfig-${index}`);
          writeTokenKubeconfig(
            path,
            { server: await proxy.start(), caData: undefined, insecure: true },
            "op",
            "t",
          );
          return path;
        }),
      );
      const args = (kubeconfig: string): string[] => [
        `--kubeconfig=${kubeconfig}`,
        ...operatorArgs(ns).filter((a) => !a.startsWith("--kubeconfig")),
      ];
      const oldLeader = startOperatorFromSource(args(kubeconfigs[0] ?? ""));
      processes.push(oldLeader);
      await oldLeader.waitForOutput(/controllers started/);
      const newLeader = startOperatorFromSource(args(kubeconfigs[1] ?? ""));
      processes.push(newLeader);
      await newLeader.waitForOutput(/campaigning for leadership/);

      const policyPath = `/apis/mlautoscale.io/v1alpha1/namespaces/${ns}/mlautoscalepolicies/svc`;
      await kubectl(["apply", "-f", "-"], { namespace: ns, input: stringify(policy("svc")) });
      await eventually(
        async () => (reconciled(await getJson<Policy>(rest, policyPath)) ? true : undefined),
        "the first leader to reconcile",
      );

      // From now on the first leader's lease requests hang; everything else it sends goes through.
      const stalledAt = Date.now();
      oldProxy.stall = (_method, path) => path.includes("/leases/");
      // Keep both replicas busy: a policy change every half second, which the leader must write out.
      let max = 10;
      let editing = true;
      const edits = (async () => {
        while (editing) {
          max = max === 10 ? 11 : 10;
          await kubectl(["apply", "-f", "-"], { namespace: ns, input: stringify(policy("svc", max)) });
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      })();
      try {
        await newLeader.waitForOutput(/controllers started/, 60_000);
        await eventually(
          () => (newProxy.writes().length > 0 ? true : undefined),
          "the new leader's first write",
        );
        // A little longer: a write the old leader still had queued would arrive now.
        await new Promise((resolve) => setTimeout(resolve, 3_000));
      } finally {
        editing = false;
        await edits;
      }

      expect(oldProxy.held.length).toBeGreaterThan(0);
      const oldWrites = oldProxy.writes().filter((w) => w.at >= stalledAt);
      expect(oldWrites.length, "the old leader kept writing while its renewal hung").toBeGreaterThan(0);
      const firstNewWrite = Math.min(...newProxy.writes().map((w) => w.at));
      const lastOldWrite = Math.max(...oldWrites.map((w) => w.at));
      expect(lastOldWrite).toBeLessThan(firstNewWrite);
      expect(await oldLeader.exited()).toBe(1);
      expect(oldLeader.output()).toMatch(/leadership lost/);
      // The new leader converges on the latest edit.
      await eventually(async () => {
        const hpa = await getJson<V2HorizontalPodAutoscaler>(
          rest,
          `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/svc`,
        );
        return hpa?.spec?.maxReplicas === max ? true : undefined;
      }, "the new leader to reconcile the last edit");
    } finally {
      await Promise.all(proxies.map((proxy) => proxy.stop()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("on SIGTERM finishes its work, releases the lease and exits 0", async () => {
    const ns = await createTestNamespace("sigterm");
    const operator = startOperatorFromSource(operatorArgs(ns));
    processes.push(operator);
    await operator.waitForOutput(/controllers started/);
    const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/mlautoscale-test`;
    expect((await getJson<Lease>(rest, leasePath))?.spec?.holderIdentity).toBeTruthy();
    await kubectl(["apply", "-f", "-"], { namespace: ns, input: stringify(policy("svc")) });

    operator.kill("SIGTERM");
    expect(await operator.exited()).toBe(0);
    expect(operator.output()).toMatch(/shutting down/);
    // Released: the next replica need not wait for the lease to expire.
    expect((await getJson<Lease>(rest, leasePath))?.spec?.holderIdentity ?? "").toBe("");
  });
});

describe("operator on a control plane of its own", () => {
  let controlPlane: ControlPlane;
  let kubeConfig: KubeConfig;
  let rest: KubeRestClient;
  let operator: InProcessOperator | undefined;
  const kedaCrds: string[] = [];

  const run = async (args: string[], input?: string): Promise<string> => {
    const { execFile } = await import("node:child_process");
    return new Promise((resolve, reject) => {
      const child = execFile(
        `${controlPlane.binDir}/kubectl`,
        [`--kubeconfig=${controlPlane.kubeconfigPath}`, ...args],
        { maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
      );
      child.stdin?.end(input ?? "");
    });
  };

  beforeAll(async () => {
    controlPlane = await startControlPlane({ profile: "integration" });
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
    rest = new KubeRestClient(kubeConfig);
    // Start without KEDA: keep its CRDs to install them again while the operator runs.
    for (const name of ["scaledobjects.keda.sh", "triggerauthentications.keda.sh"]) {
      const crd = JSON.parse(await run(["get", "crd", name, "-o", "json"])) as {
        metadata: Record<string, unknown>;
        status?: unknown;
      };
      crd.metadata = { name: crd.metadata["name"], labels: crd.metadata["labels"] ?? {} };
      delete crd.status;
      kedaCrds.push(JSON.stringify(crd));
      await run(["delete", "crd", name, "--wait=true"]);
    }
  }, 120_000);

  afterAll(async () => {
    await operator?.stop();
    await controlPlane?.stop();
  });

  it("follows KEDA's CRDs being installed and removed while it runs, and tells the CRDs from KEDA", async () => {
    await run(["create", "namespace", "keda-later"]);
    operator = await startOperator(kubeConfig, { namespaces: ["keda-later"], kedaDiscoveryIntervalMs: 500 });
    const keda = validKedaBasePolicy();
    await run(["apply", "-n", "keda-later", "-f", "-"], stringify(keda));
    const policyPath =
      "/apis/mlautoscale.io/v1alpha1/namespaces/keda-later/mlautoscalepolicies/keda-base-policy";
    await eventually(async () => {
      const c = (await getJson<Policy>(rest, policyPath))?.status?.conditions?.find(
        (x) => x.type === "Reconciled",
      );
      return c?.status === "False" && c.reason === "KedaNotInstalled" ? true : undefined;
    }, "KedaNotInstalled");

    for (const crd of kedaCrds) await run(["create", "-f", "-"], crd);
    await run([
      "wait",
      "--for=condition=Established",
      "crd/scaledobjects.keda.sh",
      "crd/triggerauthentications.keda.sh",
    ]);
    // The CRDs alone are not KEDA: nothing would turn a ScaledObject into an HPA. The policy says so and
    // writes nothing (the e2e suite follows KEDA itself coming up, on the real KEDA).
    const waiting = await eventually(
      async () => {
        const p = await getJson<Policy>(rest, policyPath);
        const c = p?.status?.conditions?.find((x) => x.type === "Reconciled");
        return c?.status === "False" && c.reason === "KedaNotRunning" ? c : undefined;
      },
      "KedaNotRunning once the CRDs are installed",
      60_000,
    );
    expect(waiting.message).toContain("no APIService v1beta1.external.metrics.k8s.io");
    expect(
      await getJson(rest, "/apis/keda.sh/v1alpha1/namespaces/keda-later/scaledobjects/keda-base-policy"),
    ).toBeUndefined();
    expect(
      await getJson(rest, "/apis/apps/v1/namespaces/keda-later/deployments/keda-base-policy"),
    ).toBeUndefined();

    // KEDA uninstalled again: the operator notices, and a policy that needs KEDA says so.
    await run(["delete", "crd", "scaledobjects.keda.sh", "triggerauthentications.keda.sh", "--wait=true"]);
    await eventually(
      async () => {
        const c = (await getJson<Policy>(rest, policyPath))?.status?.conditions?.find(
          (x) => x.type === "Reconciled",
        );
        return c?.status === "False" && c.reason === "KedaNotInstalled" ? true : undefined;
      },
      "KedaNotInstalled after KEDA is removed",
      60_000,
    );
  });

  it("converges after the API server restarts under it", async () => {
    await run(["create", "namespace", "restart"]);
    await operator?.stop();
    operator = await startOperator(kubeConfig, { namespaces: ["restart"] });
    await run(["apply", "-n", "restart", "-f", "-"], stringify(policy("before")));
    const path = (name: string): string =>
      `/apis/mlautoscale.io/v1alpha1/namespaces/restart/mlautoscalepolicies/${name}`;
    await eventually(
      async () => (reconciled(await getJson<Policy>(rest, path("before"))) ? true : undefined),
      "the first policy",
    );

    await controlPlane.restartApiServer();
    await run(["apply", "-n", "restart", "-f", "-"], stringify(policy("after")));
    await run(["apply", "-n", "restart", "-f", "-"], stringify(policy("before", 4)));
    await eventually(
      async () => (reconciled(await getJson<Policy>(rest, path("after"))) ? true : undefined),
      "the new policy",
      60_000,
    );
    await eventually(
      async () => {
        const hpa = await getJson<V2HorizontalPodAutoscaler>(
          rest,
          "/apis/autoscaling/v2/namespaces/restart/horizontalpodautoscalers/before",
        );
        return hpa?.spec?.maxReplicas === 4 ? true : undefined;
      },
      "the updated policy",
      60_000,
    );
  });
});
