import { existsSync, readdirSync, readFileSync } from "node:fs";
import { CoreV1Api, KubeConfig, VersionApi } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { startControlPlane, type ControlPlane } from "../../dev/controlplane/index.js";

/** Pids of the live processes whose command line mentions the folder: the components of one control plane. */
function processesUsing(folder: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(folder)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function core(controlPlane: ControlPlane): CoreV1Api {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
  return kubeConfig.makeApiClient(CoreV1Api);
}

describe("control plane harness", () => {
  it("starts two control planes in parallel, restarts one's API server, and leaves no process after stop()", async () => {
    // crdPaths: [] keeps this about the harness; KEDA's CRDs are still installed.
    const [first, second] = await Promise.all([
      startControlPlane({ profile: "integration", crdPaths: [] }),
      startControlPlane({ profile: "integration", crdPaths: [] }),
    ]);
    const pids = [...processesUsing(first.dir), ...processesUsing(second.dir)];
    try {
      expect(first.server).not.toBe(second.server);
      expect(first.dir).not.toBe(second.dir);
      // etcd and kube-apiserver of each.
      expect(processesUsing(first.dir)).toHaveLength(2);
      expect(processesUsing(second.dir)).toHaveLength(2);

      // Separate storage: what one holds, the other does not.
      await core(first).createNamespace({ body: { metadata: { name: "only-in-first" } } });
      await core(first).createNamespacedConfigMap({
        namespace: "only-in-first",
        body: { metadata: { name: "survives-restart" }, data: { answer: "42" } },
      });
      const secondNames = (await core(second).listNamespace()).items.map((ns) => ns.metadata?.name);
      expect(secondNames).not.toContain("only-in-first");

      const serverBefore = first.server;
      await first.restartApiServer();
      expect(first.server).toBe(serverBefore);
      const kept = await core(first).readNamespacedConfigMap({
        namespace: "only-in-first",
        name: "survives-restart",
      });
      expect(kept.data).toEqual({ answer: "42" });
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromFile(first.kubeconfigPath);
      expect((await kubeConfig.makeApiClient(VersionApi).getCode()).gitVersion).toBe("v1.35.4");
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
    const pidsAfterRestart = [
      ...new Set([...pids, ...processesUsing(first.dir), ...processesUsing(second.dir)]),
    ];
    expect(pidsAfterRestart.filter(isAlive)).toEqual([]);
    expect(processesUsing(first.dir)).toEqual([]);
    expect(processesUsing(second.dir)).toEqual([]);
    expect(existsSync(first.dir)).toBe(false);
    expect(existsSync(second.dir)).toBe(false);
    // stop() again is a no-op, not an error.
    await expect(first.stop()).resolves.toBeUndefined();
  });

  it("says how to build the binaries when one is missing", async () => {
    const saved = process.env.KUBEBUILDER_ASSETS;
    const savedCache = process.env.MLAUTOSCALE_CACHE;
    process.env.MLAUTOSCALE_CACHE = "/nonexistent-mlautoscale-cache";
    delete process.env.KUBEBUILDER_ASSETS;
    try {
      await expect(startControlPlane({ profile: "integration" })).rejects.toThrow(
        /etcd not found .*scripts\/controlplane\/build\.sh/,
      );
    } finally {
      if (saved !== undefined) process.env.KUBEBUILDER_ASSETS = saved;
      if (savedCache === undefined) delete process.env.MLAUTOSCALE_CACHE;
      else process.env.MLAUTOSCALE_CACHE = savedCache;
    }
  });
});
