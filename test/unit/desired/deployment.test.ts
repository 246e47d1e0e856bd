import { describe, expect, it } from "vitest";
import {
  buildDeployment,
  CONTAINER_NAME,
  STARTUP_PROBE_PERIOD_SECONDS,
} from "../../../src/controllers/mlautoscalepolicy/desired/deployment.js";
import { hpaPolicy } from "./policies.js";

function deploymentOf(changes: Parameters<typeof hpaPolicy>[0] = {}) {
  const deployment = buildDeployment(hpaPolicy(changes));
  if (deployment === undefined) throw new Error("no Deployment");
  const container = deployment.spec?.template.spec?.containers[0];
  if (container === undefined) throw new Error("no container");
  return { deployment, container, pod: deployment.spec?.template.spec };
}

describe("probes derived from the model load time", () => {
  it.each([
    [1, 2],
    [60, 25],
    [90, 37],
    [600, 241],
  ])(
    "loadSeconds %i: the startup probe allows %i failures, twice the load time",
    (loadSeconds, threshold) => {
      const { container } = deploymentOf({ "spec.workload.template.model.loadSeconds": loadSeconds });
      const startup = container.startupProbe;
      expect(startup?.periodSeconds).toBe(STARTUP_PROBE_PERIOD_SECONDS);
      expect(startup?.failureThreshold).toBe(threshold);
      // The probe tolerates at least twice the load time before the kubelet restarts the container.
      expect((startup?.failureThreshold ?? 0) * (startup?.periodSeconds ?? 0)).toBeGreaterThanOrEqual(
        2 * loadSeconds,
      );
    },
  );

  it("checks readiness and liveness on short periods, with no initial delay", () => {
    const { container } = deploymentOf({
      "spec.workload.template.model.loadSeconds": 600,
      "spec.workload.template.probes": { healthPath: "/healthz", readyPath: "/v2/health/ready" },
    });
    expect(container.startupProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(container.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(container.readinessProbe?.httpGet).toEqual({ path: "/v2/health/ready", port: "http" });
    for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) {
      expect(probe?.initialDelaySeconds).toBeUndefined();
      expect(probe?.periodSeconds).toBeLessThanOrEqual(10);
    }
  });

  it("gives a slow model a longer rollout deadline", () => {
    expect(deploymentOf().deployment.spec?.progressDeadlineSeconds).toBe(600);
    const slow = deploymentOf({ "spec.workload.template.model.loadSeconds": 900 });
    expect(slow.deployment.spec?.progressDeadlineSeconds).toBe(2700);
  });
});

describe("graceful shutdown", () => {
  it("sets the grace period to drain + longest request + 5 s and sleeps drainSeconds before SIGTERM", () => {
    const { container, pod } = deploymentOf({
      "spec.workload.template.shutdown": { drainSeconds: 10, maxRequestSeconds: 120 },
    });
    expect(pod?.terminationGracePeriodSeconds).toBe(135);
    expect(container.lifecycle?.preStop).toEqual({ sleep: { seconds: 10 } });
  });

  it("defaults to 5 s of drain and 30 s requests", () => {
    expect(deploymentOf().pod?.terminationGracePeriodSeconds).toBe(40);
  });
});

describe("container", () => {
  it("passes model.path as MODEL_PATH, replacing a MODEL_PATH given in env, with env sorted", () => {
    const { container } = deploymentOf({
      "spec.workload.template.env": [
        { name: "ZETA", value: "z" },
        { name: "MODEL_PATH", value: "/wrong" },
        { name: "API_TOKEN", secretKeyRef: { name: "tokens", key: "api" } },
        { name: "MODE", configMapKeyRef: { name: "settings", key: "mode" } },
      ],
      "spec.workload.template.model.path": "/models/base",
    });
    expect(container.env).toEqual([
      { name: "API_TOKEN", valueFrom: { secretKeyRef: { name: "tokens", key: "api" } } },
      { name: "MODE", valueFrom: { configMapKeyRef: { name: "settings", key: "mode" } } },
      { name: "MODEL_PATH", value: "/models/base" },
      { name: "ZETA", value: "z" },
    ]);
  });

  it("keeps a MODEL_PATH from env when model.path is not set, and has no env when there is none", () => {
    const kept = deploymentOf({
      "spec.workload.template.model": { loadSeconds: 30 },
      "spec.workload.template.env": [{ name: "MODEL_PATH", value: "/mnt/model" }],
    });
    expect(kept.container.env).toEqual([{ name: "MODEL_PATH", value: "/mnt/model" }]);
    const none = deploymentOf({
      "spec.workload.template.model": {},
      "spec.workload.template.env": undefined,
    });
    expect(none.container.env).toBeUndefined();
  });

  it("requests GPUs under their resource name with request equal to limit", () => {
    const { container } = deploymentOf({
      "spec.workload.template.resources": {
        requests: { cpu: "2", memory: "4Gi" },
        limits: { memory: "8Gi" },
      },
      "spec.workload.template.gpu": { count: 2, resourceName: "amd.com/gpu" },
    });
    expect(container.resources).toEqual({
      requests: { "amd.com/gpu": "2", cpu: "2", memory: "4Gi" },
      limits: { "amd.com/gpu": "2", memory: "8Gi" },
    });
  });

  it("has no GPU resources for a CPU-only template", () => {
    const { container } = deploymentOf({
      "spec.workload.template.gpu": undefined,
      "spec.workload.template.resources": { requests: { cpu: 1 } },
    });
    expect(container.resources).toEqual({ requests: { cpu: "1" } });
  });

  it("names the ports and copies image, command, args and service account", () => {
    const { container, pod } = deploymentOf({
      "spec.workload.template.ports": { http: 9000, metrics: 9100 },
      "spec.workload.template.command": ["python", "-m", "server"],
      "spec.workload.template.args": ["--workers", "2"],
      "spec.workload.template.serviceAccountName": "model-reader",
    });
    expect(container.name).toBe(CONTAINER_NAME);
    expect(container.image).toBe("registry.example.com/ml/model-server:1.0.0");
    expect(container.command).toEqual(["python", "-m", "server"]);
    expect(container.args).toEqual(["--workers", "2"]);
    expect(container.ports).toEqual([
      { name: "http", containerPort: 9000, protocol: "TCP" },
      { name: "metrics", containerPort: 9100, protocol: "TCP" },
    ]);
    expect(pod?.serviceAccountName).toBe("model-reader");
  });
});

describe("Deployment", () => {
  it("leaves replicas to the autoscaler and surges before it removes a replica", () => {
    const { deployment } = deploymentOf();
    expect(deployment.spec?.replicas).toBeUndefined();
    expect(deployment.spec?.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
  });

  it("selects its pods by the policy's labels, which extra pod labels cannot override", () => {
    const { deployment } = deploymentOf({
      "spec.workload.template.podLabels": { team: "vision", "mlautoscale.io/policy": "other" },
      "spec.workload.template.podAnnotations": { "prometheus.io/scrape": "true" },
    });
    const selector = { "app.kubernetes.io/name": "base-policy", "mlautoscale.io/policy": "base-policy" };
    expect(deployment.spec?.selector).toEqual({ matchLabels: selector });
    expect(deployment.spec?.template.metadata?.labels).toEqual({ ...selector, team: "vision" });
    expect(deployment.spec?.template.metadata?.annotations).toEqual({
      "mlautoscale.io/model-load-seconds": "60",
      "prometheus.io/scrape": "true",
    });
  });

  it("tells each pod its model's load time, which a pod annotation cannot misstate", () => {
    const { deployment } = deploymentOf({
      "spec.workload.template.model.loadSeconds": 90,
      "spec.workload.template.podAnnotations": { "mlautoscale.io/model-load-seconds": "1" },
    });
    expect(deployment.spec?.template.metadata?.annotations).toEqual({
      "mlautoscale.io/model-load-seconds": "90",
    });
  });

  it("is not built for a targetRef", () => {
    const policy = hpaPolicy({
      "spec.workload.template": undefined,
      "spec.workload.targetRef": { kind: "Deployment", name: "existing" },
    });
    expect(buildDeployment(policy)).toBeUndefined();
  });
});
