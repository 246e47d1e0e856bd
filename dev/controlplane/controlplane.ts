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
import { ApiregistrationV1Api, CoreV1Api, KubeConfig, VersionApi } from "@kubernetes/client-node";
import type { SqsServer } from "../brokers/sqs-server.js";
import { startKafka, startRabbitMq, startSqs } from "./addons/brokers.js";
import type { AddonContext } from "./addons/context.js";
import { startEmulator } from "./addons/emulator.js";
import { KEDA_COMPONENTS, startKeda } from "./addons/keda.js";
import { startMetricsServer, startPrometheus, startPrometheusAdapter } from "./addons/metrics.js";
import {
  binaryLocator,
  pinnedVersions,
  repoRoot,
  type BinaryLocator,
  type BinaryName,
  type SystemProgram,
} from "./binaries.js";
import { Components } from "./components.js";
import { installCrds, readCrds, waitForCrdsEstablished, yamlFiles } from "./crds.js";
import { adminKubeconfig, adminToken, serviceAccountKeys, tokenAuthFile } from "./credentials.js";
import { freePorts, waitFor } from "./net.js";
import { createFakeNodes, KWOK_STAGES_DIR } from "./nodes.js";
import { ClusterObjects } from "./objects.js";
import { createLocalPki, type LocalPki } from "./pki.js";
import { forgetFolder, removeOnExit } from "./process.js";

export type Profile = "integration" | "e2e";

export interface ControlPlaneOptions {
  profile: Profile;
  /**
   * The control plane's Kubernetes minor version, e.g. "1.30", built from tools/kubernetes-<minor> (which
   * builds only what its tests start: kube-apiserver for the oldest version). Default: the newest
   * (tools/kubernetes). kubectl and Helm stay the newest.
   */
  kubernetesVersion?: string;
  /** Files or folders of CRD YAML to install besides KEDA's; default: the repository's crds/. */
  crdPaths?: string[];
  /**
   * e2e: run KEDA's operator, metrics API server and admission webhooks (default true). Without KEDA its
   * CRDs are still installed (a cluster that uninstalled KEDA and kept them), and prometheus-adapter
   * serves external.metrics.k8s.io in its place.
   */
  keda?: boolean;
  /**
   * e2e: run the scaling loop (default true): metrics-server, Prometheus, prometheus-adapter, RabbitMQ,
   * Kafka, SQS and the workload emulator. KEDA follows `keda`.
   */
  loop?: boolean;
  /**
   * e2e: flags added to KEDA's operator, e.g. `--kube-api-qps=200` for a benchmark of more ScaledObjects
   * than KEDA's default client limit (20 requests/s) gets through in reasonable time.
   */
  kedaOperatorArgs?: readonly string[];
  /**
   * e2e: flags added to kube-controller-manager, e.g. `--kube-api-qps=100` for a benchmark of more
   * Deployments than its default client limit (20 requests/s per controller) rolls out in reasonable time.
   */
  controllerManagerArgs?: readonly string[];
  log?: (line: string) => void;
}

/** The addresses a user or a test needs, by the name of the environment variable that carries each. */
export interface ClusterAddresses {
  KUBECONFIG: string;
  PROMETHEUS_URL?: string;
  RABBITMQ_URL?: string;
  RABBITMQ_MANAGEMENT_URL?: string;
  KAFKA_BROKERS?: string;
  SQS_ENDPOINT?: string;
  EMULATOR_URL?: string;
}

/** Parts of the local cluster that a test can stop and start again (an outage), by name. */
export type StoppableAddon =
  "keda" | "prometheus" | "prometheus-adapter" | "metrics-server" | "rabbitmq" | "kafka";

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
  /** kube-apiserver's version as it reports it (gitVersion, e.g. "v1.35.4"). */
  readonly kubernetesVersion: string;
  /** Whether KEDA's programs were started. */
  readonly keda: boolean;
  readonly addresses: Readonly<ClusterAddresses>;
  /** The pid of each running component (etcd, kube-apiserver, KEDA's programs...), by name. */
  componentPids(): ReadonlyMap<string, number>;
  /** Stops kube-apiserver and starts it again on the same port and etcd. */
  restartApiServer(): Promise<void>;
  /** Stops an add-on's processes by pid; its registrations (APIService, webhooks) stay, as in a crash. */
  stopAddon(name: StoppableAddon): Promise<void>;
  /** Starts a stopped add-on again on the same ports and waits until it is up. */
  startAddon(name: StoppableAddon): Promise<void>;
  /** Idempotent. */
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 120_000;
const RESTART_GRACE_MS = 3_000;
/** KEDA's and the brokers' processes, by add-on. */
const ADDON_COMPONENTS: Record<StoppableAddon, readonly string[]> = {
  keda: KEDA_COMPONENTS,
  prometheus: ["prometheus"],
  "prometheus-adapter": ["prometheus-adapter"],
  "metrics-server": ["metrics-server"],
  rabbitmq: ["epmd", "rabbitmq"],
  kafka: ["kafka"],
};
/** Stop order: clients before what they talk to, storage last. */
const STOP_ORDER = [
  "workload-emulator",
  "keda-webhooks",
  "keda-adapter",
  "keda-operator",
  "prometheus-adapter",
  "prometheus",
  "metrics-server",
  "rabbitmq",
  "epmd",
  "kafka",
  "kwok",
  "kube-scheduler",
  "kube-controller-manager",
  "kube-apiserver",
  "etcd",
];

/**
 * The controllers of the e2e profile: what Deployments, HPAs, PDBs, GC and namespaces need to behave.
 * The HPA controller syncs every 15 s (its default, --horizontal-pod-autoscaler-sync-period), as in a
 * user's cluster.
 */
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
/** The programs of the Kubernetes version asked for; the others (kubectl, etcd, KWOK...) are the same for all. */
const VERSIONED_BINARIES: BinaryName[] = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"];
const LOOP_BINARIES: BinaryName[] = ["metrics-server", "prometheus-adapter", "kfake"];
const KEDA_BINARIES: BinaryName[] = ["keda-operator", "keda-adapter", "keda-webhooks"];
const LOOP_PROGRAMS: SystemProgram[] = ["prometheus", "rabbitmq-server", "epmd"];

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  if (process.env.MLAUTOSCALE_USE_EXISTING_CLUSTER === "true") return useExistingCluster(options);
  const locator = binaryLocator(pinnedVersions(options.kubernetesVersion));
  const e2e = options.profile === "e2e";
  const loop = e2e && options.loop !== false;
  const keda = e2e && options.keda !== false;
  for (const name of REQUIRED_BINARIES[options.profile]) {
    const version = options.kubernetesVersion;
    if (version !== undefined && VERSIONED_BINARIES.includes(name) && locator.find(name) === undefined) {
      throw new Error(
        `${name} ${version} not found: scripts/controlplane/build.sh kubernetes-${version} builds the programs ` +
          `tools/kubernetes-${version}/go.mod lists as tools; the ${options.profile} profile needs ${name} among them`,
      );
    }
    locator.path(name);
  }
  if (loop) for (const name of LOOP_BINARIES) locator.path(name);
  if (keda) for (const name of KEDA_BINARIES) locator.path(name);
  if (loop) for (const name of LOOP_PROGRAMS) locator.system(name);
  if (e2e) locator.system("openssl");
  const local = new LocalControlPlane(options, locator, { loop, keda });
  try {
    await local.start();
  } catch (error) {
    await local.stop();
    throw error;
  }
  return local;
}

class LocalControlPlane implements ControlPlane {
  readonly profile: Profile;
  readonly dir: string;
  readonly binDir: string;
  readonly kubeconfigPath: string;
  readonly keda: boolean;
  server = "";
  kubernetesVersion = "";
  addresses: ClusterAddresses;

  private readonly loop: boolean;
  private readonly log: (line: string) => void;
  private readonly token = adminToken();
  private readonly components: Components;
  private pki: LocalPki | undefined;
  private sqs: SqsServer | undefined;
  private apiServerArgs: string[] = [];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly options: ControlPlaneOptions,
    private readonly locator: BinaryLocator,
    features: { loop: boolean; keda: boolean },
  ) {
    this.profile = options.profile;
    this.loop = features.loop;
    this.keda = features.keda;
    this.log = options.log ?? (() => undefined);
    this.dir = mkdtempSync(join(tmpdir(), `mlautoscale-${options.profile}-`));
    if (process.env.MLAUTOSCALE_KEEP_CONTROLPLANE_DIR !== "true") removeOnExit(this.dir);
    this.binDir = join(this.dir, "bin");
    this.kubeconfigPath = join(this.dir, "admin.kubeconfig");
    this.addresses = { KUBECONFIG: this.kubeconfigPath };
    for (const folder of ["bin", "logs", "etcd", "pki"]) mkdirSync(join(this.dir, folder));
    this.components = new Components(this.path("logs"), this.log, STARTUP_TIMEOUT_MS);
  }

  componentPids(): ReadonlyMap<string, number> {
    return this.components.pids();
  }

  private path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  async start(): Promise<void> {
    const started = Date.now();
    this.linkClientBinaries();
    this.writeCredentials();
    if (this.profile === "e2e")
      this.pki = createLocalPki(this.path("pki", "local"), this.locator.system("openssl"));
    await this.startEtcd();
    await this.startApiServer();
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(this.kubeconfigPath);
    this.kubernetesVersion = await this.checkServerVersion(kubeConfig);
    await this.installCrds(kubeConfig);
    if (this.profile === "e2e") {
      await Promise.all([this.startControllerManager(), this.startScheduler(), this.startKwok()]);
      await createFakeNodes(kubeConfig, STARTUP_TIMEOUT_MS);
      this.log("fake nodes are Ready");
      await this.waitForDefaultServiceAccount(kubeConfig);
      if (this.loop || this.keda) await this.startAddons(kubeConfig);
    }
    this.log(`${this.profile} control plane ready at ${this.server} in ${Date.now() - started} ms`);
  }

  private addonContext(kubeConfig: KubeConfig): AddonContext {
    const pki = this.pki;
    if (!pki) throw new Error("the add-ons need the e2e profile's certificates");
    const apiRegistration = kubeConfig.makeApiClient(ApiregistrationV1Api);
    return {
      dir: this.dir,
      kubeconfigPath: this.kubeconfigPath,
      locator: this.locator,
      components: this.components,
      pki,
      objects: new ClusterObjects(kubeConfig),
      kedaOperatorArgs: this.options.kedaOperatorArgs ?? [],
      log: this.log,
      waitForApiServiceAvailable: async (names) => {
        await Promise.all(
          names.map((name) =>
            waitFor(
              `APIService ${name} to be Available`,
              async () => {
                const apiService = await apiRegistration.readAPIService({ name });
                const available = apiService.status?.conditions?.find((c) => c.type === "Available");
                if (available?.status === "True") return true;
                throw new Error(`${available?.reason ?? "no status"}: ${available?.message ?? ""}`);
              },
              { timeoutMs: STARTUP_TIMEOUT_MS, intervalMs: 250 },
            ),
          ),
        );
      },
    };
  }

  /**
   * The scaling loop, started in parallel where nothing depends on it: brokers and Prometheus first (the
   * emulator reads the brokers, Prometheus scrapes the emulator), then the emulator; KEDA and
   * metrics-server on their own.
   */
  private async startAddons(kubeConfig: KubeConfig): Promise<void> {
    const context = this.addonContext(kubeConfig);
    const tasks: Promise<void>[] = [];
    if (this.keda) tasks.push(startKeda(context).then(() => undefined));
    if (this.loop) {
      tasks.push(startMetricsServer(context));
      tasks.push(
        (async () => {
          const [emulatorPort] = await freePorts(1);
          const [prometheus, rabbitmq, kafka, sqs] = await Promise.all([
            startPrometheus(context, emulatorPort ?? 0),
            startRabbitMq(context),
            startKafka(context),
            startSqs(),
          ]);
          this.sqs = sqs;
          Object.assign(this.addresses, {
            PROMETHEUS_URL: prometheus.url,
            RABBITMQ_URL: rabbitmq.amqpUrl,
            RABBITMQ_MANAGEMENT_URL: rabbitmq.managementUrl,
            KAFKA_BROKERS: kafka.brokers,
            SQS_ENDPOINT: sqs.endpoint,
          });
          const [emulator] = await Promise.all([
            startEmulator(context, emulatorPort ?? 0, this.addresses),
            // Only one server can hold external.metrics.k8s.io: KEDA's, when it runs.
            startPrometheusAdapter(context, prometheus.url, !this.keda),
          ]);
          this.addresses.EMULATOR_URL = emulator.url;
        })(),
      );
    }
    await Promise.all(tasks);
  }

  async stopAddon(name: StoppableAddon): Promise<void> {
    // Reverse order: for KEDA the webhooks and metrics server before the operator they talk to.
    for (const component of [...ADDON_COMPONENTS[name]].reverse()) await this.components.stop(component);
  }

  async startAddon(name: StoppableAddon): Promise<void> {
    for (const component of ADDON_COMPONENTS[name]) {
      if (!this.components.running(component)) await this.components.restart(component);
    }
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

  private async startEtcd(): Promise<void> {
    await this.components.start("etcd", 2, ([clientPort, peerPort]) => {
      const client = `http://127.0.0.1:${clientPort}`;
      const peer = `http://127.0.0.1:${peerPort}`;
      return {
        command: this.locator.path("etcd"),
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
    const etcd = this.components.require("etcd");
    return `http://127.0.0.1:${etcd.ports[0] ?? 0}`;
  }

  /**
   * The aggregation layer: kube-apiserver proxies to aggregated API servers (metrics, KEDA's) with this
   * client certificate, and they trust the user it names in the front-proxy headers.
   */
  private aggregationArgs(): string[] {
    const pki = this.pki;
    if (!pki) return [];
    return [
      `--client-ca-file=${pki.clientCa}`,
      `--requestheader-client-ca-file=${pki.frontProxyCa}`,
      "--requestheader-allowed-names=front-proxy-client",
      "--requestheader-username-headers=X-Remote-User",
      "--requestheader-group-headers=X-Remote-Group",
      "--requestheader-extra-headers-prefix=X-Remote-Extra-",
      `--proxy-client-cert-file=${pki.frontProxyClient.cert}`,
      `--proxy-client-key-file=${pki.frontProxyClient.key}`,
    ];
  }

  private async startApiServer(): Promise<void> {
    const component = await this.components.start("kube-apiserver", 1, ([port]) => {
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
        ...this.aggregationArgs(),
      ];
      return {
        command: this.locator.path("kube-apiserver"),
        args: this.apiServerArgs,
        probe: { url: `https://127.0.0.1:${port ?? 0}/readyz`, bearerToken: this.token },
      };
    });
    this.server = `https://127.0.0.1:${component.ports[0] ?? 0}`;
    const caPem = readFileSync(this.path("pki", "apiserver", "apiserver.crt"), "utf8");
    writeFileSync(this.kubeconfigPath, adminKubeconfig(this.server, caPem, this.token), { mode: 0o600 });
  }

  /** The version kube-apiserver reports; with a version asked for, it must be that one. */
  private async checkServerVersion(kubeConfig: KubeConfig): Promise<string> {
    const info = await kubeConfig.makeApiClient(VersionApi).getCode();
    const asked = this.options.kubernetesVersion;
    if (asked !== undefined && `${info.major}.${Number.parseInt(info.minor, 10)}` !== asked) {
      throw new Error(
        `asked for Kubernetes ${asked}, and ${this.locator.path("kube-apiserver")} is ${info.gitVersion}`,
      );
    }
    this.log(`kube-apiserver ${info.gitVersion}`);
    return info.gitVersion;
  }

  async restartApiServer(): Promise<void> {
    // It stops listening at once on SIGTERM, then waits up to a minute for long-lived watches (the
    // controllers', KWOK's, the operator's) to end: those clients have already lost it, so do not wait.
    await this.components.stop("kube-apiserver", RESTART_GRACE_MS);
    await this.components.restart("kube-apiserver");
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
    await this.components.start("kube-controller-manager", 1, ([port]) => ({
      command: this.locator.path("kube-controller-manager"),
      args: [
        ...this.componentKubeconfigArgs(),
        `--secure-port=${port ?? 0}`,
        `--cert-dir=${this.path("pki", "kube-controller-manager")}`,
        `--controllers=${E2E_CONTROLLERS.join(",")}`,
        // For the legacy token controller and the kube-root-ca.crt ConfigMap in each namespace.
        `--service-account-private-key-file=${this.path("pki", "service-account.key")}`,
        `--root-ca-file=${this.path("pki", "apiserver", "apiserver.crt")}`,
        ...(this.options.controllerManagerArgs ?? []),
      ],
      probe: { url: `https://127.0.0.1:${port ?? 0}/healthz` },
    }));
  }

  private async startScheduler(): Promise<void> {
    await this.components.start("kube-scheduler", 1, ([port]) => ({
      command: this.locator.path("kube-scheduler"),
      args: [
        ...this.componentKubeconfigArgs(),
        `--secure-port=${port ?? 0}`,
        `--cert-dir=${this.path("pki", "kube-scheduler")}`,
      ],
      probe: { url: `https://127.0.0.1:${port ?? 0}/healthz` },
    }));
  }

  /**
   * KWOK plays every node's kubelet: the module's node stages, the project's pod stages (a pod is Ready
   * only after its model's load time, and leaves after its termination grace period), and with the loop
   * the kubelet's resource metrics endpoint, over TLS on the port every node reports, for metrics-server.
   */
  private async startKwok(): Promise<void> {
    const configs = [
      ...yamlFiles([this.locator.kwokStagesDir(), KWOK_STAGES_DIR]),
      ...(this.loop ? yamlFiles([this.locator.kwokMetricsDir()]) : []),
    ];
    const pki = this.pki;
    await this.components.start("kwok", 1, ([port]) => ({
      command: this.locator.path("kwok"),
      args: [
        `--kubeconfig=${this.kubeconfigPath}`,
        ...configs.map((config) => `--config=${config}`),
        "--manage-all-nodes=true",
        "--node-lease-duration-seconds=40",
        "--cidr=10.244.0.1/16",
        `--server-address=127.0.0.1:${port ?? 0}`,
        ...(pki
          ? [
              "--node-ip=127.0.0.1",
              `--node-port=${port ?? 0}`,
              `--tls-cert-file=${pki.serving.cert}`,
              `--tls-private-key-file=${pki.serving.key}`,
            ]
          : []),
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
    await this.components.stopAll(STOP_ORDER);
    await this.sqs?.close();
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
  const { gitVersion: kubernetesVersion } = await kubeConfig.makeApiClient(VersionApi).getCode();
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
  // An existing cluster brings its own add-ons; their addresses come from the environment, as
  // `npm run cluster` prints them.
  const addresses: ClusterAddresses = { KUBECONFIG: kubeconfigPath };
  for (const name of [
    "PROMETHEUS_URL",
    "RABBITMQ_URL",
    "RABBITMQ_MANAGEMENT_URL",
    "KAFKA_BROKERS",
    "SQS_ENDPOINT",
    "EMULATOR_URL",
  ] as const) {
    const value = process.env[name];
    if (value !== undefined) addresses[name] = value;
  }
  const notHere = (what: string) => () =>
    Promise.reject(new Error(`${what} is not possible on an existing cluster`));
  return {
    profile: options.profile,
    kubeconfigPath,
    server,
    dir,
    binDir,
    kubernetesVersion,
    keda: options.keda !== false,
    addresses,
    // Its processes are not this harness's.
    componentPids: () => new Map(),
    restartApiServer: notHere("restartApiServer"),
    stopAddon: notHere("stopAddon"),
    startAddon: notHere("startAddon"),
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
