// `mlautoscale operator`: wiring only — config -> logger -> clients -> manager -> controller -> server.
import { parseEndpointPattern } from "./api/v1alpha1/index.js";
import { ConfigError, loadConfig, OPERATOR_USAGE, type OperatorConfig } from "./config.js";
import { setupPolicyController } from "./controllers/mlautoscalepolicy/controller.js";
import { createLogger } from "./observability/logger.js";
import { OperatorMetrics } from "./observability/metrics.js";
import { ObservabilityServer } from "./observability/server.js";
import { Applier } from "./runtime/apply.js";
import { RestEventRecorder } from "./runtime/events.js";
import { defaultIdentity, restLeaseClient } from "./runtime/leader-election.js";
import { Manager } from "./runtime/manager.js";
import { WriteFence } from "./runtime/fence.js";
import { loadClusterConnection } from "./runtime/kubeconfig.js";
import { KubeRestClient } from "./runtime/rest.js";
import type { CommandIO } from "./render/command.js";

export const FIELD_MANAGER = "mlautoscale";

export async function runOperatorCommand(argv: string[], io: CommandIO): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout(OPERATOR_USAGE);
    return 0;
  }
  let config: OperatorConfig;
  try {
    config = loadConfig(argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`error: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel });
  const kubeConfig = await loadClusterConnection(config.kubeconfig);
  // Writes go out only while this replica leads (with leader election) or runs (without).
  const fence = new WriteFence();
  const metrics = new OperatorMetrics();
  const rest = new KubeRestClient(kubeConfig, {
    fence,
    qps: config.kubeApiQps,
    burst: config.kubeApiBurst,
    metrics: metrics.restClient,
  });
  const identity = defaultIdentity();
  const manager = new Manager({
    logger,
    shutdownTimeoutMs: config.shutdownTimeoutSeconds * 1000,
    fence,
    ...(config.leaderElect && {
      leaderElection: {
        client: restLeaseClient(rest),
        namespace: config.leaderElectionNamespace ?? "default",
        name: config.leaderElectionId,
        identity,
      },
    }),
  });
  const { discovery, externalMetrics, serverVersion } = setupPolicyController({
    manager,
    rest,
    applier: new Applier(rest, { fieldManager: FIELD_MANAGER }),
    events: new RestEventRecorder(rest, "mlautoscale-operator", logger, identity),
    metrics,
    logger,
    namespaces: config.namespaces,
    workers: config.workers,
    resyncPeriodMs: config.resyncSeconds * 1000,
    kedaDiscoveryIntervalMs: config.kedaDiscoverySeconds * 1000,
    allowedTriggerEndpoints: config.allowedTriggerEndpoints.map(parseEndpointPattern),
    ...(config.propagateLabels.length > 0 && { propagateLabels: config.propagateLabels }),
  });
  logger.info(
    {
      namespaces: config.namespaces.length === 0 ? "all" : config.namespaces,
      leaderElect: config.leaderElect,
      allowedTriggerEndpoints:
        config.allowedTriggerEndpoints.length === 0 ? "any" : config.allowedTriggerEndpoints,
      identity,
    },
    "starting mlautoscale operator",
  );
  const server = new ObservabilityServer({
    registry: metrics.registry,
    ...manager.healthChecks(),
    port: config.metricsPort,
    host: config.bindAddress,
  });
  const removeSignalHandlers = manager.installSignalHandlers();
  try {
    const port = await server.start();
    logger.info({ port }, "serving /metrics, /healthz and /readyz");
    // KEDA and the server's version are looked up before the controllers start, so the first reconciles
    // already know the engine and what the children may hold.
    await Promise.all([discovery.start(), externalMetrics.start(), serverVersion.start()]);
    await manager.start();
    await manager.done();
  } finally {
    discovery.stop();
    externalMetrics.stop();
    serverVersion.stop();
    removeSignalHandlers();
    await server.stop();
  }
  if (manager.lostLeadership) {
    logger.error("exiting: this replica lost its lease; Kubernetes restarts it as a candidate");
    return 1;
  }
  return 0;
}
