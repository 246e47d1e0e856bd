// Runs the operator's controller in the test process, to look inside; operator-process.ts runs the real
// CLI as a child process (signals, leader election, crashes).
import type { KubeConfig } from "@kubernetes/client-node";
import type { EndpointPattern } from "../../src/api/v1alpha1/index.js";
import { setupPolicyController } from "../../src/controllers/mlautoscalepolicy/controller.js";
import { FIELD_MANAGER } from "../../src/main.js";
import { createLogger } from "../../src/observability/logger.js";
import { OperatorMetrics } from "../../src/observability/metrics.js";
import { Applier } from "../../src/runtime/apply.js";
import { RestEventRecorder } from "../../src/runtime/events.js";
import { Manager } from "../../src/runtime/manager.js";
import { KubeRestClient } from "../../src/runtime/rest.js";
import { isNotFound } from "../../src/runtime/errors.js";
import { createTestNamespace, deleteTestNamespace, testKubeConfig } from "./cluster.js";

export interface InProcessOperator {
  manager: Manager;
  metrics: OperatorMetrics;
  stop(): Promise<void>;
}

/** The operator's controller in this process, watching only `namespaces`, without leader election. */
export async function startOperator(
  kubeConfig: KubeConfig,
  options: {
    namespaces: string[];
    resyncPeriodMs?: number;
    kedaDiscoveryIntervalMs?: number;
    workers?: number;
    allowedTriggerEndpoints?: readonly EndpointPattern[];
  },
): Promise<InProcessOperator> {
  const logger = createLogger({ level: process.env["OPERATOR_TEST_LOG"] === "1" ? "debug" : "silent" });
  const rest = new KubeRestClient(kubeConfig);
  const metrics = new OperatorMetrics({ processMetrics: false });
  const manager = new Manager({ logger, shutdownTimeoutMs: 5_000 });
  const { discovery, externalMetrics, serverVersion } = setupPolicyController({
    manager,
    rest,
    applier: new Applier(rest, { fieldManager: FIELD_MANAGER }),
    events: new RestEventRecorder(rest, "mlautoscale-operator", logger, "test"),
    metrics,
    logger,
    namespaces: options.namespaces,
    workers: options.workers ?? 2,
    resyncPeriodMs: options.resyncPeriodMs ?? 60_000,
    kedaDiscoveryIntervalMs: options.kedaDiscoveryIntervalMs ?? 1_000,
    ...(options.allowedTriggerEndpoints !== undefined && {
      allowedTriggerEndpoints: options.allowedTriggerEndpoints,
    }),
  });
  await Promise.all([discovery.start(), externalMetrics.start(), serverVersion.start()]);
  await manager.start();
  return {
    manager,
    metrics,
    stop: async () => {
      discovery.stop();
      externalMetrics.stop();
      serverVersion.stop();
      await manager.stop("test finished");
    },
  };
}

/** Polls `probe` until it returns a value other than undefined. */
export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 30_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ""}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** GETs an API path; undefined when the object does not exist. */
export async function getIfExists<T>(
  rest: Pick<KubeRestClient, "request">,
  path: string,
): Promise<T | undefined> {
  try {
    return await rest.request<T>("GET", path);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Test namespaces, each with an operator of its own in this process watching it alone (so tests run side by
 * side); stop() stops the operators and deletes the namespaces.
 */
export class OperatorNamespaces {
  private readonly namespaces: string[] = [];
  private readonly operators: InProcessOperator[] = [];

  async create(prefix: string): Promise<string> {
    const ns = await createTestNamespace(prefix);
    this.namespaces.push(ns);
    this.operators.push(await startOperator(testKubeConfig(), { namespaces: [ns] }));
    return ns;
  }

  async stop(): Promise<void> {
    await Promise.all(this.operators.map((operator) => operator.stop()));
    for (const ns of this.namespaces) await deleteTestNamespace(ns);
  }
}
