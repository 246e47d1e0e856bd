// The metrics pipeline a cluster has: metrics-server (pod CPU and memory for the HPA's Resource metrics,
// scraped from KWOK's emulated kubelets), Prometheus (scraping the workload emulator's per-pod metrics),
// and prometheus-adapter (custom.metrics.k8s.io for the HPA's Pods metrics, and external.metrics.k8s.io
// where KEDA does not hold it: only one server can).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { adapterRules } from "../../../src/model-servers/promql.js";
import { externalNameService, type ManifestObject } from "../objects.js";
import type { AddonContext } from "./context.js";

/** What Prometheus calls the emulator's scrape job; the adapter's rules select its series by it. */
export const EMULATOR_JOB = "workload-emulator";
/**
 * Scrape and evaluation interval. Prometheus's default is 1 m and 15-30 s is common; 5 s keeps the
 * tests' windows short. The delay it adds to every signal is part of what `simulate` must model.
 */
export const SCRAPE_INTERVAL_SECONDS = 5;
/**
 * metrics-server's resolution: how often it scrapes the kubelets. It must exceed its kubelet request
 * timeout (10 s) or it refuses to start; metrics-server's default is 60 s.
 */
export const METRICS_SERVER_RESOLUTION_SECONDS = 15;
/** prometheus-adapter's series relist (default 10 m): how soon a new metric name becomes queryable. */
export const ADAPTER_RELIST_SECONDS = 10;

function apiService(
  group: string,
  version: string,
  service: string,
  port: number,
  caBundle: string,
): ManifestObject {
  return {
    apiVersion: "apiregistration.k8s.io/v1",
    kind: "APIService",
    metadata: { name: `${version}.${group}` },
    spec: {
      group,
      version,
      groupPriorityMinimum: 100,
      versionPriority: 100,
      service: { name: service, namespace: "kube-system", port },
      caBundle,
    },
  };
}

export async function startMetricsServer(context: AddonContext): Promise<void> {
  const { components, locator, pki, kubeconfigPath: kubeconfig, objects } = context;
  const dir = join(context.dir, "metrics-server");
  mkdirSync(dir, { recursive: true });
  const component = await components.start("metrics-server", 1, ([port]) => ({
    command: locator.path("metrics-server"),
    args: [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${port}`,
      `--cert-dir=${dir}`,
      `--tls-cert-file=${pki.serving.cert}`,
      `--tls-private-key-file=${pki.serving.key}`,
      // KWOK's kubelets: the node's InternalIP (127.0.0.1), the port in its status.daemonEndpoints, the
      // path in its metrics.k8s.io/resource-metrics-path annotation, and KWOK's own certificate.
      "--kubelet-preferred-address-types=InternalIP",
      "--kubelet-use-node-status-port",
      "--kubelet-insecure-tls",
      `--metric-resolution=${METRICS_SERVER_RESOLUTION_SECONDS}s`,
    ],
    probe: { url: `https://127.0.0.1:${port}/livez`, ca: pki.servingCaPem },
  }));
  const caBundle = Buffer.from(pki.servingCaPem).toString("base64");
  const registration = apiService(
    "metrics.k8s.io",
    "v1beta1",
    "metrics-server",
    component.ports[0] ?? 0,
    caBundle,
  );
  await objects.apply(externalNameService("kube-system", "metrics-server"), registration);
  await context.waitForApiServiceAvailable([registration.metadata.name]);
}

export interface PrometheusAddon {
  url: string;
}

/** Prometheus scraping the workload emulator at `emulatorPort` (which may start later). */
export async function startPrometheus(context: AddonContext, emulatorPort: number): Promise<PrometheusAddon> {
  const dir = join(context.dir, "prometheus");
  mkdirSync(join(dir, "data"), { recursive: true });
  const configPath = join(dir, "prometheus.yml");
  writeFileSync(
    configPath,
    stringify({
      global: {
        scrape_interval: `${SCRAPE_INTERVAL_SECONDS}s`,
        evaluation_interval: `${SCRAPE_INTERVAL_SECONDS}s`,
      },
      scrape_configs: [
        {
          job_name: EMULATOR_JOB,
          // The emulator labels each series with the namespace and pod it stands for: keep them.
          honor_labels: true,
          static_configs: [{ targets: [`127.0.0.1:${emulatorPort}`] }],
        },
      ],
    }),
  );
  const component = await context.components.start("prometheus", 1, ([port]) => ({
    command: context.locator.system("prometheus"),
    args: [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--storage.tsdb.retention.time=1d",
      "--log.level=warn",
    ],
    probe: { url: `http://127.0.0.1:${port}/-/ready` },
  }));
  return { url: `http://127.0.0.1:${component.ports[0] ?? 0}` };
}

/**
 * prometheus-adapter's rules: every per-pod series of the emulator is a Pods metric of the same name
 * (summed per pod), and with `external` also an External metric (summed over the series the HPA's
 * selector matches in the namespace). The LLM servers' signals are Pods metrics under the names the
 * operator's HPAs ask for (vllm_requests_waiting, ...), by the rules a user's cluster needs too.
 */
export function prometheusAdapterRules(external: boolean): Record<string, unknown> {
  const series = `{job="${EMULATOR_JOB}",namespace!="",pod!=""}`;
  return {
    rules: [
      {
        seriesQuery: series,
        resources: { overrides: { namespace: { resource: "namespace" }, pod: { resource: "pod" } } },
        name: { matches: "^(.*)$", as: "${1}" },
        metricsQuery: "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
      },
      ...adapterRules(),
    ],
    ...(external && {
      externalRules: [
        {
          seriesQuery: series,
          resources: { overrides: { namespace: { resource: "namespace" } } },
          name: { matches: "^(.*)$", as: "${1}" },
          metricsQuery: "sum(<<.Series>>{<<.LabelMatchers>>})",
        },
      ],
    }),
  };
}

/**
 * prometheus-adapter serving custom.metrics.k8s.io, and external.metrics.k8s.io when `external` (that
 * is, when KEDA does not run: one APIService per group and version).
 */
export async function startPrometheusAdapter(
  context: AddonContext,
  prometheusUrl: string,
  external: boolean,
): Promise<void> {
  const { components, locator, pki, kubeconfigPath: kubeconfig, objects } = context;
  const dir = join(context.dir, "prometheus-adapter");
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, "config.yaml");
  writeFileSync(configPath, stringify(prometheusAdapterRules(external)));
  const component = await components.start("prometheus-adapter", 1, ([port]) => ({
    command: locator.path("prometheus-adapter"),
    args: [
      `--lister-kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${port}`,
      `--cert-dir=${dir}`,
      `--tls-cert-file=${pki.serving.cert}`,
      `--tls-private-key-file=${pki.serving.key}`,
      `--prometheus-url=${prometheusUrl}`,
      `--config=${configPath}`,
      `--metrics-relist-interval=${ADAPTER_RELIST_SECONDS}s`,
    ],
    probe: { url: `https://127.0.0.1:${port}/healthz`, ca: pki.servingCaPem },
  }));
  const port = component.ports[0] ?? 0;
  const caBundle = Buffer.from(pki.servingCaPem).toString("base64");
  const registrations = [
    apiService("custom.metrics.k8s.io", "v1beta1", "prometheus-adapter", port, caBundle),
    apiService("custom.metrics.k8s.io", "v1beta2", "prometheus-adapter", port, caBundle),
    ...(external
      ? [apiService("external.metrics.k8s.io", "v1beta1", "prometheus-adapter", port, caBundle)]
      : []),
  ];
  await objects.apply(externalNameService("kube-system", "prometheus-adapter"), ...registrations);
  await context.waitForApiServiceAvailable(registrations.map((r) => r.metadata.name));
}
