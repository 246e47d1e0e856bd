// KEDA's three programs out of cluster, against the local API server: the operator (ScaledObjects ->
// HPAs, scale to and from zero, the scalers), the metrics API server that serves their metrics as
// external.metrics.k8s.io, and the admission webhooks, registered from KEDA's own manifests with the
// webhooks enforcing (failurePolicy Fail), so that every ScaledObject written passes KEDA's admission.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { httpGet } from "../net.js";
import { externalNameService, namespace, type ManifestObject } from "../objects.js";
import type { AddonContext } from "./context.js";

export const KEDA_NAMESPACE = "keda";
export const KEDA_COMPONENTS = ["keda-operator", "keda-adapter", "keda-webhooks"] as const;
const METRICS_SERVICE = "keda-metrics-apiserver";
const WEBHOOK_SERVICE = "keda-admission-webhooks";

/**
 * The environment of all three: the namespace KEDA would run in (read from the service account's files in
 * a pod), and AWS credentials for identityOwner: operator triggers, which use the operator's own identity
 * (any value: the SQS endpoint of the local cluster does not check signatures).
 */
function kedaEnvironment(): NodeJS.ProcessEnv {
  return {
    KEDA_CLUSTER_OBJECT_NAMESPACE: KEDA_NAMESPACE,
    POD_NAMESPACE: KEDA_NAMESPACE,
    WATCH_NAMESPACE: "",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_REGION: "us-east-1",
    // The scalers of AWS triggers must never look for an instance metadata service.
    AWS_EC2_METADATA_DISABLED: "true",
  };
}

function manifests(dir: string, file: string): ManifestObject[] {
  return parseAllDocuments(readFileSync(join(dir, file), "utf8"))
    .map((document) => document.toJS() as ManifestObject | null)
    .filter((object): object is ManifestObject => object !== null);
}

export interface KedaAddon {
  /** The operator's, the metrics server's and the webhooks' components, in start order. */
  components: readonly string[];
}

export async function startKeda(context: AddonContext): Promise<KedaAddon> {
  const { components, locator, pki, kubeconfigPath: kubeconfig, objects, kedaOperatorArgs } = context;
  await objects.apply(namespace(KEDA_NAMESPACE));
  const env = kedaEnvironment();

  // The operator first: it serves the gRPC metrics service the metrics server connects to.
  const operator = await components.start("keda-operator", 3, ([grpc, metrics, health]) => ({
    command: locator.path("keda-operator"),
    args: [
      `--kubeconfig=${kubeconfig}`,
      "--leader-elect=false",
      `--cert-dir=${pki.kedaCertDir}`,
      `--metrics-service-bind-address=127.0.0.1:${grpc}`,
      `--metrics-bind-address=127.0.0.1:${metrics}`,
      `--health-probe-bind-address=127.0.0.1:${health}`,
      "--zap-encoder=console",
      "--zap-log-level=info",
      ...kedaOperatorArgs,
    ],
    probe: { url: `http://127.0.0.1:${health}/readyz` },
    options: { env },
  }));
  const grpcPort = operator.ports[0] ?? 0;

  const [adapter, webhooks] = await Promise.all([
    components.start("keda-adapter", 2, ([secure, metrics]) => ({
      command: locator.path("keda-adapter"),
      args: [
        `--kubeconfig=${kubeconfig}`,
        `--lister-kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        "--bind-address=127.0.0.1",
        `--secure-port=${secure}`,
        // Its gRPC client's mutual TLS files; the serving certificate is given separately.
        `--cert-dir=${pki.kedaCertDir}`,
        `--tls-cert-file=${pki.serving.cert}`,
        `--tls-private-key-file=${pki.serving.key}`,
        `--metrics-service-address=localhost:${grpcPort}`,
        `--port=${metrics}`,
        "--zap-encoder=console",
      ],
      probe: { url: `https://127.0.0.1:${secure}/healthz`, ca: pki.servingCaPem },
      options: { env },
    })),
    // controller-runtime's webhook server listens on every interface: a free port keeps it clear of others.
    components.start("keda-webhooks", 3, ([port, metrics, health]) => ({
      command: locator.path("keda-webhooks"),
      args: [
        `--kubeconfig=${kubeconfig}`,
        `--cert-dir=${pki.kedaCertDir}`,
        `--port=${port}`,
        `--metrics-bind-address=127.0.0.1:${metrics}`,
        `--health-probe-bind-address=127.0.0.1:${health}`,
        "--zap-encoder=console",
      ],
      probe: async () => (await httpGet({ url: `http://127.0.0.1:${health}/readyz` })).status === 200,
      options: { env },
    })),
  ]);

  const caBundle = Buffer.from(pki.servingCaPem).toString("base64");
  const manifestDir = locator.kedaManifestsDir();
  const apiServices = manifests(manifestDir, "api_service.yaml").map((apiService) => {
    const spec = apiService["spec"] as { service: Record<string, unknown>; [key: string]: unknown };
    delete spec["insecureSkipTLSVerify"];
    spec.service["port"] = adapter.ports[0];
    spec["caBundle"] = caBundle;
    return apiService;
  });
  const webhookConfigurations = manifests(manifestDir, "validation_webhooks.yaml").map((configuration) => {
    const hooks = configuration["webhooks"] as Array<{
      clientConfig: { service: Record<string, unknown>; caBundle?: string };
      failurePolicy?: string;
    }>;
    for (const hook of hooks) {
      hook.clientConfig.service["port"] = webhooks.ports[0];
      hook.clientConfig.caBundle = caBundle;
      // KEDA ships Ignore, so that a webhook outage never blocks writes; enforcing means every object the
      // operator writes is checked by KEDA for real.
      hook.failurePolicy = "Fail";
    }
    return configuration;
  });
  await objects.apply(
    externalNameService(KEDA_NAMESPACE, METRICS_SERVICE),
    externalNameService(KEDA_NAMESPACE, WEBHOOK_SERVICE),
    ...apiServices,
    ...webhookConfigurations,
  );
  await context.waitForApiServiceAvailable(apiServices.map((apiService) => apiService.metadata.name));
  context.log("KEDA is running: external.metrics.k8s.io is Available and its webhooks enforce");
  return { components: KEDA_COMPONENTS };
}
