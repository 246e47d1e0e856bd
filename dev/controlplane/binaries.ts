import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, found from this file's place in dev/controlplane/. */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

export type BinaryName =
  "etcd" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "kubectl" | "kwok" | "helm";

export interface PinnedVersions {
  kubernetes: string;
  etcd: string;
  kwok: string;
  helm: string;
  keda: string;
}

export function cacheRoot(): string {
  return process.env.MLAUTOSCALE_CACHE ?? join(homedir(), ".cache", "mlautoscale");
}

/** The version a tool module's go.mod requires of one module: the pin that build.sh built. */
export function goModRequirement(goModPath: string, modulePath: string): string {
  const text = readFileSync(goModPath, "utf8");
  const escaped = modulePath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, "m").exec(text);
  if (!match?.[1]) throw new Error(`${goModPath} does not require ${modulePath}`);
  return match[1];
}

/** A KEY=value line of scripts/controlplane/versions.env, shared with build.sh. */
export function versionsEnvValue(key: string): string {
  const path = join(repoRoot, "scripts", "controlplane", "versions.env");
  const match = new RegExp(`^${key}=(\\S+)`, "m").exec(readFileSync(path, "utf8"));
  if (!match?.[1]) throw new Error(`${path} has no ${key}`);
  return match[1];
}

export function pinnedVersions(): PinnedVersions {
  const toolModule = (name: string): string => join(repoRoot, "tools", name, "go.mod");
  return {
    kubernetes: goModRequirement(toolModule("kubernetes"), "k8s.io/kubernetes"),
    etcd: goModRequirement(toolModule("etcd"), "go.etcd.io/etcd/server/v3"),
    kwok: goModRequirement(toolModule("kwok"), "sigs.k8s.io/kwok"),
    helm: goModRequirement(toolModule("helm"), "helm.sh/helm/v3"),
    keda: versionsEnvValue("KEDA_VERSION"),
  };
}

const cacheFolderOf: Record<BinaryName, keyof PinnedVersions> = {
  etcd: "etcd",
  "kube-apiserver": "kubernetes",
  "kube-controller-manager": "kubernetes",
  "kube-scheduler": "kubernetes",
  kubectl: "kubernetes",
  kwok: "kwok",
  helm: "helm",
};

export interface BinaryLocator {
  /** The path of a binary: KUBEBUILDER_ASSETS first when set, then the build cache. Throws if missing. */
  path(name: BinaryName): string;
  /** Like path(), but undefined instead of an error. */
  find(name: BinaryName): string | undefined;
  kwokStagesDir(): string;
  kedaCrdsDir(): string;
}

export function binaryLocator(versions: PinnedVersions = pinnedVersions()): BinaryLocator {
  const cache = cacheRoot();
  const assets = process.env.KUBEBUILDER_ASSETS;
  const candidates = (name: BinaryName): string[] => {
    const component = cacheFolderOf[name];
    const cached = join(cache, `${component}-${versions[component]}`, name);
    return assets ? [join(assets, name), cached] : [cached];
  };
  const find = (name: BinaryName): string | undefined => candidates(name).find((path) => existsSync(path));
  const requireFolder = (path: string, what: string): string => {
    if (!existsSync(path)) {
      throw new Error(`${what} not found at ${path}: run scripts/controlplane/build.sh`);
    }
    return path;
  };
  return {
    find,
    path(name) {
      const found = find(name);
      if (found) return found;
      throw new Error(
        `${name} not found (looked in ${candidates(name).join(", ")}): run scripts/controlplane/build.sh`,
      );
    },
    kwokStagesDir: () => requireFolder(join(cache, `kwok-${versions.kwok}`, "stages"), "KWOK stages"),
    kedaCrdsDir: () => requireFolder(join(cache, `keda-${versions.keda}`, "crds"), "KEDA CRDs"),
  };
}
