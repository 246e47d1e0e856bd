import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, found from this file's place in dev/controlplane/. */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** Binaries build.sh makes from the Go module proxy, each in its component's cache folder. */
export type BinaryName =
  | "etcd"
  | "kube-apiserver"
  | "kube-controller-manager"
  | "kube-scheduler"
  | "kubectl"
  | "kwok"
  | "helm"
  | "keda-operator"
  | "keda-adapter"
  | "keda-webhooks"
  | "metrics-server"
  | "prometheus-adapter"
  | "kfake";

/** Programs from Debian's packages (scripts/install-packages.sh), at the paths the packages install. */
export const SYSTEM_PROGRAMS = {
  prometheus: { path: "/usr/bin/prometheus", package: "prometheus" },
  promtool: { path: "/usr/bin/promtool", package: "prometheus" },
  "rabbitmq-server": { path: "/usr/lib/rabbitmq/bin/rabbitmq-server", package: "rabbitmq-server" },
  rabbitmqctl: { path: "/usr/lib/rabbitmq/bin/rabbitmqctl", package: "rabbitmq-server" },
  epmd: { path: "/usr/bin/epmd", package: "erlang-base (with rabbitmq-server)" },
  openssl: { path: "/usr/bin/openssl", package: "openssl" },
} as const;
export type SystemProgram = keyof typeof SYSTEM_PROGRAMS;

export interface PinnedVersions {
  /** kube-apiserver, kube-controller-manager and kube-scheduler: the newest version unless asked otherwise. */
  kubernetes: string;
  /** The client, always the newest version's. */
  kubectl: string;
  etcd: string;
  kwok: string;
  helm: string;
  keda: string;
  "metrics-server": string;
  "prometheus-adapter": string;
  kfake: string;
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

/** KEY=value lines of scripts/controlplane/versions.env, which build.sh sources. */
export function versionsEnv(): Record<string, string> {
  const text = readFileSync(join(repoRoot, "scripts", "controlplane", "versions.env"), "utf8");
  return Object.fromEntries(
    text
      .split("\n")
      .map((line) => /^([A-Z0-9_]+)=(.*)$/.exec(line.trim()))
      .flatMap((match) => (match?.[1] !== undefined ? [[match[1], match[2] ?? ""]] : [])),
  );
}

/** The oldest Kubernetes minor version the operator supports ("1.30"): KUBERNETES_OLDEST in versions.env. */
export function oldestKubernetes(): string {
  const oldest = versionsEnv()["KUBERNETES_OLDEST"];
  if (oldest === undefined) throw new Error("scripts/controlplane/versions.env sets no KUBERNETES_OLDEST");
  return oldest;
}

/**
 * The pins build.sh built. `kubernetes` ("1.30") picks the control plane's version: its wrapper module
 * tools/kubernetes-<minor> pins it; without it, tools/kubernetes (the newest). kubectl is always the newest.
 */
export function pinnedVersions(kubernetes?: string): PinnedVersions {
  const toolModule = (name: string): string => join(repoRoot, "tools", name, "go.mod");
  const newest = goModRequirement(toolModule("kubernetes"), "k8s.io/kubernetes");
  let server = newest;
  if (kubernetes !== undefined) {
    const module = toolModule(`kubernetes-${kubernetes}`);
    if (!existsSync(module)) {
      throw new Error(
        `Kubernetes ${kubernetes} has no wrapper module (${module}): the local cluster runs the newest version ` +
          `(tools/kubernetes) or one with a tools/kubernetes-<minor> module`,
      );
    }
    server = goModRequirement(module, "k8s.io/kubernetes");
  }
  return {
    kubernetes: server,
    kubectl: newest,
    etcd: goModRequirement(toolModule("etcd"), "go.etcd.io/etcd/server/v3"),
    kwok: goModRequirement(toolModule("kwok"), "sigs.k8s.io/kwok"),
    helm: goModRequirement(toolModule("helm"), "helm.sh/helm/v3"),
    keda: goModRequirement(toolModule("keda"), "github.com/kedacore/keda/v2"),
    "metrics-server": goModRequirement(toolModule("metrics-server"), "sigs.k8s.io/metrics-server"),
    "prometheus-adapter": goModRequirement(
      toolModule("prometheus-adapter"),
      "sigs.k8s.io/prometheus-adapter",
    ),
    kfake: goModRequirement(toolModule("kfake"), "github.com/twmb/franz-go/pkg/kfake"),
  };
}

const versionOf: Record<BinaryName, keyof PinnedVersions> = {
  etcd: "etcd",
  "kube-apiserver": "kubernetes",
  "kube-controller-manager": "kubernetes",
  "kube-scheduler": "kubernetes",
  kubectl: "kubectl",
  kwok: "kwok",
  helm: "helm",
  "keda-operator": "keda",
  "keda-adapter": "keda",
  "keda-webhooks": "keda",
  "metrics-server": "metrics-server",
  "prometheus-adapter": "prometheus-adapter",
  kfake: "kfake",
};

/** The cache folder's component name (<component>-<version>): kubectl is built with the control plane. */
const componentOf = (version: keyof PinnedVersions): string =>
  version === "kubectl" ? "kubernetes" : version;

export interface BinaryLocator {
  /** The path of a binary: KUBEBUILDER_ASSETS first when set, then the build cache. Throws if missing. */
  path(name: BinaryName): string;
  /** Like path(), but undefined instead of an error. */
  find(name: BinaryName): string | undefined;
  kwokStagesDir(): string;
  /** KWOK's own kubelet metrics configurations (resource metrics, usage from annotations). */
  kwokMetricsDir(): string;
  kedaCrdsDir(): string;
  /** KEDA's manifests for its APIService and admission webhooks. */
  kedaManifestsDir(): string;
  /** The path of a program from a Debian package; throws, naming the package, when it is missing. */
  system(name: SystemProgram): string;
}

export function binaryLocator(versions: PinnedVersions = pinnedVersions()): BinaryLocator {
  const cache = cacheRoot();
  const assets = process.env.KUBEBUILDER_ASSETS;
  const candidates = (name: BinaryName): string[] => {
    const version = versionOf[name];
    const cached = join(cache, `${componentOf(version)}-${versions[version]}`, name);
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
    kwokMetricsDir: () => requireFolder(join(cache, `kwok-${versions.kwok}`, "metrics"), "KWOK metrics"),
    kedaCrdsDir: () => requireFolder(join(cache, `keda-${versions.keda}`, "crds"), "KEDA CRDs"),
    kedaManifestsDir: () =>
      requireFolder(join(cache, `keda-${versions.keda}`, "manifests"), "KEDA manifests"),
    system(name) {
      const program = SYSTEM_PROGRAMS[name];
      if (existsSync(program.path)) return program.path;
      throw new Error(
        `${program.path} not found: install Debian's ${program.package} (scripts/install-packages.sh)`,
      );
    },
  };
}
