import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { binaryLocator, repoRoot, type BinaryLocator, type BinaryName } from "./binaries.js";
import { installCrds, readCrds, waitForCrdsEstablished, yamlFiles } from "./crds.js";
import { adminKubeconfig, adminToken, serviceAccountKeys, tokenAuthFile } from "./credentials.js";
import { freePorts, httpGet, releasePorts, waitFor, type HttpProbe } from "./net.js";
import { createFakeNodes } from "./nodes.js";
import { forgetFolder, logTail, removeOnExit, startProcess, type ManagedProcess } from "./process.js";

export type Profile = "integration" | "e2e";

export interface ControlPlaneOptions {
  profile: Profile;
  /** Files or folders of CRD YAML to install besides KEDA's; default: the repository's crds/. */
  crdPaths?: string[];
  log?: (line: string) => void;
}

export interface ControlPlane {
  readonly profile: Profile;
  /** Admin kubeconfig (system:masters). */
  readonly kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** The temporary folder. */
  readonly dir: string;
  /** Folder holding kubectl and helm of the pinned versions. */
  readonly binDir: string;
  /** Stops kube-apiserver and starts it again on the same port and etcd. */
  restartApiServer(): Promise<void>;
  /** Idempotent. */
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 120_000;
const PORT_ATTEMPTS = 3;
const RESTART_GRACE_MS = 3_000;

/** The controllers of the e2e profile: what Deployments, HPAs, PDBs, GC and namespaces need to behave. */
const E2E_CONTROLLERS = [
  "garbage-collector-controller",
  "deployment-controller",
  "replicaset-controller",
  "horizontal-pod-autoscaler-controller",
  "disruption-controller",
  "namespace-controller",
  "serviceaccount-controller",
  "serviceaccount-token-controller",
  "root-ca-certificate-publisher-controller",
  "clusterrole-aggregation-controller",
  "pod-garbage-collector-controller",
];

const REQUIRED_BINARIES: Record<Profile, BinaryName[]> = {
  integration: ["etcd", "kube-apiserver", "kubectl"],
  e2e: ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "kubectl", "helm"],
};

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  if (process.env.MLAUTOSCALE_USE_EXISTING_CLUSTER === "true") return useExistingCluster(options);
  const locator = binaryLocator();
  for (const name of REQUIRED_BINARIES[options.profile]) locator.path(name);
  const local = new LocalControlPlane(options, locator);
  try {
    await local.start();
  } catch (error) {
    await local.stop();
    throw error;
  }
  return local;
}

/** A process with the probe that says it is healthy. */
interface Component {
  process: ManagedProcess;
  probe: HttpProbe;
  ports: number[];
}

class LocalControlPlane implements ControlPlane {
  readonly profile: Profile;
  readonly dir: string;
  readonly binDir: string;
  readonly kubeconfigPath: string;
  server = "";

  private readonly log: (line: string) => void;
  private readonly token = adminToken();
  private readonly components = new Map<string, Component>();
  private apiServerArgs: string[] = [];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly options: ControlPlaneOptions,
    private readonly locator: BinaryLocator,
  ) {
    this.profile = options.profile;
    this.log = options.log ?? (() => undefined);
    this.dir = mkdtempSync(join(tmpdir(), `mlautoscale-${options.profile}-`));
    if (process.env.MLAUTOSCALE_KEEP_CONTROLPLANE_DIR !== "true") removeOnExit(this.dir);
    this.binDir = join(this.dir, "bin");
    this.kubeconfigPath = join(this.dir, "admin.kubeconfig");
    for (const folder of ["bin", "logs", "etcd", "pki"]) mkdirSync(join(this.dir, folder));
  }

  private path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  async start(): Promise<void> {
    const started = Date.now();
    this.linkClientBinaries();
    this.writeCredentials();
    await this.startEtcd();
    await this.startApiServer();
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(this.kubeconfigPath);
    await this.installCrds(kubeConfig);
    if (this.profile === "e2e") {
      await this.startControllerManager();
      await this.startScheduler();
      await this.startKwok();
      await createFakeNodes(kubeConfig, STARTUP_TIMEOUT_MS);
      this.log("fake nodes are Ready");
      await this.waitForDefaultServiceAccount(kubeConfig);
    }
    this.log(`${this.profile} control plane ready at ${this.server} in ${Date.now() - started} ms`);
  }

  private linkClientBinaries(): void {
    for (const name of ["kubectl", "helm"] as const) {
      const found = this.locator.find(name);
      if (found) symlinkSync(found, join(this.binDir, name));
    }
  }

  private writeCredentials(): void {
    const keys = serviceAccountKeys();
    writeFileSync(this.path("pki", "service-account.key"), keys.privateKeyPem, { mode: 0o600 });
    writeFileSync(this.path("pki", "service-account.pub"), keys.publicKeyPem);
    writeFileSync(this.path("pki", "tokens.csv"), tokenAuthFile(this.token), { mode: 0o600 });
  }

  /**
   * Starts a component on freshly chosen ports and waits for its probe; if it lost a port to another
   * process between choosing and binding, tries again with new ports.
   */
  private async startComponent(
    name: string,
    portCount: number,
    launch: (ports: number[]) => { binary: BinaryName; args: string[]; probe: HttpProbe },
  ): Promise<Component> {
    for (let attempt = 1; ; attempt++) {
      const ports = await freePorts(portCount);
      const { binary, args, probe } = launch(ports);
      const component = this.launch(name, binary, args, probe, ports);
      try {
        await this.waitHealthy(component);
        return component;
      } catch (error) {
        await component.process.stop();
        this.components.delete(name);
        releasePorts(ports);
        const portTaken = /address already in use/i.test(logTail(component.process.logPath, 50));
        if (!portTaken || attempt >= PORT_ATTEMPTS) throw error;
        this.log(`${name}: a port was taken, retrying with new ports`);
      }
    }
  }

  private launch(
    name: string,
    binary: BinaryName,
    args: string[],
    probe: HttpProbe,
    ports: number[],
  ): Component {
    const managed = startProcess(name, this.locator.path(binary), args, this.path("logs", `${name}.log`));
    this.log(`started ${name} (pid ${managed.pid})`);
    const component = { process: managed, probe, ports };
    this.components.set(name, component);
    return component;
  }

  private async waitHealthy(component: Component): Promise<void> {
    const { process: managed, probe } = component;
    await waitFor(
      `${managed.name} to be healthy at ${probe.url}`,
      async () => {
        const { status, body } = await httpGet(probe);
        if (status === 200) return true;
        throw new Error(`HTTP ${status}: ${body.slice(0, 300)}`);
      },
      {
        timeoutMs: STARTUP_TIMEOUT_MS,
        abortIf: () => {
          if (managed.hasExited()) {
            throw new Error(
              `${managed.name} exited during start-up; its log ends with:\n${logTail(managed.logPath)}`,
            );
          }
        },
      },
    ).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`${message}\n(log: ${managed.logPath})`);
    });
    this.log(`${managed.name} is healthy`);
  }

  private async startEtcd(): Promise<void> {
    await this.startComponent("etcd", 2, ([clientPort, peerPort]) => {
      const client = `http://127.0.0.1:${clientPort}`;
      const peer = `http://127.0.0.1:${peerPort}`;
      return {
        binary: "etcd",
        args: [
          "--name=default",
          `--data-dir=${this.path("etcd")}`,
          `--listen-client-urls=${client}`,
          `--advertise-client-urls=${client}`,
          `--listen-peer-urls=${peer}`,
          `--initial-advertise-peer-urls=${peer}`,
          `--initial-cluster=default=${peer}`,
          // Test data is thrown away: skipping fsync makes every write much cheaper.
          "--unsafe-no-fsync=true",
          "--log-level=warn",
        ],
        probe: { url: `${client}/health` },
      };
    });
  }

  private etcdUrl(): string {
    const etcd = this.components.get("etcd");
    if (!etcd) throw new Error("etcd is not running");
    return `http://127.0.0.1:${etcd.ports[0] ?? 0}`;
  }

  private async startApiServer(): Promise<void> {
    const component = await this.startComponent("kube-apiserver", 1, ([port]) => {
      this.apiServerArgs = [
        `--etcd-servers=${this.etcdUrl()}`,
        "--bind-address=127.0.0.1",
        // Without an advertise address, a machine with no default route fails to start the API server.
        "--advertise-address=127.0.0.1",
        `--secure-port=${port ?? 0}`,
        // It writes a self-signed serving certificate here on first start and reuses it on restart.
        `--cert-dir=${this.path("pki", "apiserver")}`,
        `--token-auth-file=${this.path("pki", "tokens.csv")}`,
        "--authorization-mode=RBAC",
        "--service-cluster-ip-range=10.0.0.0/24",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        `--service-account-key-file=${this.path("pki", "service-account.pub")}`,
        `--service-account-signing-key-file=${this.path("pki", "service-account.key")}`,
        // ServiceAccount admission would reject pods until the namespace's default ServiceAccount exists
        // (and integration has no controller to make it); TaintNodesByCondition would taint each new
        // fake node not-ready.
        "--disable-admission-plugins=ServiceAccount,TaintNodesByCondition",
        "--allow-privileged=true",
      ];
      return {
        binary: "kube-apiserver",
        args: this.apiServerArgs,
        probe: { url: `https://127.0.0.1:${port ?? 0}/readyz`, bearerToken: this.token },
      };
    });
    this.server = `https://127.0.0.1:${component.ports[0] ?? 0}`;
    const caPem = readFileSync(this.path("pki", "apiserver", "apiserver.crt"), "utf8");
    writeFileSync(this.kubeconfigPath, adminKubeconfig(this.server, caPem, this.token), { mode: 0o600 });
  }

  async restartApiServer(): Promise<void> {
    const current = this.components.get("kube-apiserver");
    if (!current) throw new Error("kube-apiserver is not running");
    // It stops listening at once on SIGTERM, then waits up to a minute for long-lived watches (the
    // controllers', KWOK's, the operator's) to end: those clients have already lost it, so do not wait.
    await current.process.stop(RESTART_GRACE_MS);
    this.log("kube-apiserver stopped");
    const probe = {
      ...current.probe,
      ca: readFileSync(this.path("pki", "apiserver", "apiserver.crt"), "utf8"),
    };
    const restarted = this.launch(
      "kube-apiserver",
      "kube-apiserver",
      this.apiServerArgs,
      probe,
      current.ports,
    );
    await this.waitHealthy(restarted);
  }

  private async installCrds(kubeConfig: KubeConfig): Promise<void> {
    const ours = yamlFiles(this.options.crdPaths ?? [join(repoRoot, "crds")]);
    const crds = readCrds([...ours, ...yamlFiles([this.locator.kedaCrdsDir()])]);
    await installCrds(kubeConfig, crds);
    await waitForCrdsEstablished(
      kubeConfig,
      crds.map(({ crd }) => crd.metadata?.name ?? ""),
      STARTUP_TIMEOUT_MS,
    );
    this.log(`installed ${crds.length} CRDs (${ours.length} file(s) of ours), all Established`);
  }

  private componentKubeconfigArgs(): string[] {
    return [
      `--kubeconfig=${this.kubeconfigPath}`,
      `--authentication-kubeconfig=${this.kubeconfigPath}`,
      `--authorization-kubeconfig=${this.kubeconfigPath}`,
      "--leader-elect=false",
      "--bind-address=127.0.0.1",
    ];
  }

  private async startControllerManager(): Promise<void> {
    await this.startComponent("kube-controller-manager", 1, ([port]) => ({
      binary: "kube-controller-manager",
      args: [
        ...this.componentKubeconfigArgs(),
        `--secure-port=${port ?? 0}`,
        `--cert-dir=${this.path("pki", "kube-controller-manager")}`,
        `--controllers=${E2E_CONTROLLERS.join(",")}`,
        // For the legacy token controller and the kube-root-ca.crt ConfigMap in each namespace.
        `--service-account-private-key-file=${this.path("pki", "service-account.key")}`,
        `--root-ca-file=${this.path("pki", "apiserver", "apiserver.crt")}`,
      ],
      probe: { url: `https://127.0.0.1:${port ?? 0}/healthz` },
    }));
  }

  private async startScheduler(): Promise<void> {
    await this.startComponent("kube-scheduler", 1, ([port]) => ({
      binary: "kube-scheduler",
      args: [
        ...this.componentKubeconfigArgs(),
        `--secure-port=${port ?? 0}`,
        `--cert-dir=${this.path("pki", "kube-scheduler")}`,
      ],
      probe: { url: `https://127.0.0.1:${port ?? 0}/healthz` },
    }));
  }

  private async startKwok(): Promise<void> {
    const stages = yamlFiles([this.locator.kwokStagesDir()]);
    await this.startComponent("kwok", 1, ([port]) => ({
      binary: "kwok",
      args: [
        `--kubeconfig=${this.kubeconfigPath}`,
        ...stages.map((stage) => `--config=${stage}`),
        "--manage-all-nodes=true",
        "--node-lease-duration-seconds=40",
        "--cidr=10.244.0.1/16",
        `--server-address=127.0.0.1:${port ?? 0}`,
      ],
      probe: { url: `http://127.0.0.1:${port ?? 0}/healthz` },
    }));
  }

  /** The ServiceAccount controller has done its first pass once the default namespace has its account. */
  private async waitForDefaultServiceAccount(kubeConfig: KubeConfig): Promise<void> {
    const core = kubeConfig.makeApiClient(CoreV1Api);
    await waitFor(
      "the default ServiceAccount",
      async () => {
        await core.readNamespacedServiceAccount({ name: "default", namespace: "default" });
        return true;
      },
      { timeoutMs: STARTUP_TIMEOUT_MS },
    );
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<void> {
    // Reverse start order: clients first, storage last.
    for (const name of ["kwok", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"]) {
      const component = this.components.get(name);
      if (!component) continue;
      await component.process.stop();
      releasePorts(component.ports);
      this.components.delete(name);
      this.log(`stopped ${name}`);
    }
    if (process.env.MLAUTOSCALE_KEEP_CONTROLPLANE_DIR === "true") {
      this.log(`kept ${this.dir}`);
    } else {
      rmSync(this.dir, { recursive: true, force: true });
      forgetFolder(this.dir);
    }
  }
}

/** Runs against the cluster of KUBECONFIG: installs the CRDs there, starts and stops nothing. */
async function useExistingCluster(options: ControlPlaneOptions): Promise<ControlPlane> {
  const kubeconfigPath = process.env.KUBECONFIG;
  if (!kubeconfigPath || kubeconfigPath.includes(":") || !existsSync(kubeconfigPath)) {
    throw new Error("MLAUTOSCALE_USE_EXISTING_CLUSTER=true needs KUBECONFIG set to one existing file");
  }
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const server = kubeConfig.getCurrentCluster()?.server;
  if (!server) throw new Error(`${kubeconfigPath} has no current cluster`);
  const dir = mkdtempSync(join(tmpdir(), `mlautoscale-${options.profile}-existing-`));
  removeOnExit(dir);
  const binDir = join(dir, "bin");
  mkdirSync(binDir);
  const locator = binaryLocator();
  for (const name of ["kubectl", "helm"] as const) {
    const found = locator.find(name);
    if (found) symlinkSync(found, join(binDir, name));
  }
  const crds = readCrds([
    ...yamlFiles(options.crdPaths ?? [join(repoRoot, "crds")]),
    ...yamlFiles([locator.kedaCrdsDir()]),
  ]);
  await installCrds(kubeConfig, crds);
  await waitForCrdsEstablished(
    kubeConfig,
    crds.map(({ crd }) => crd.metadata?.name ?? ""),
    STARTUP_TIMEOUT_MS,
  );
  options.log?.(`using the existing cluster at ${server}; installed ${crds.length} CRDs`);
  let stopped = false;
  return {
    profile: options.profile,
    kubeconfigPath,
    server,
    dir,
    binDir,
    restartApiServer: () =>
      Promise.reject(new Error("restartApiServer is not possible on an existing cluster")),
    stop: () => {
      if (!stopped) {
        stopped = true;
        rmSync(dir, { recursive: true, force: true });
        forgetFolder(dir);
      }
      return Promise.resolve();
    },
  };
}
