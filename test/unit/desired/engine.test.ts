import { describe, expect, it } from "vitest";
import type { MLAutoscalePolicy } from "../../../src/api/v1alpha1/index.js";
import {
  buildDesiredChildren,
  chooseEngine,
  KEDA_ABSENT,
  KEDA_RUNNING,
  type ExternalMetricsApi,
  type KedaAvailability,
} from "../../../src/controllers/mlautoscalepolicy/desired/index.js";
import { hpaPolicy, kedaPolicy } from "./policies.js";

const prometheus = { serverAddress: "http://prometheus.monitoring:9090" };

/** Policies by what they ask of the autoscaler. */
const scenarios: Record<string, (engine: string) => MLAutoscalePolicy> = {
  "resource metrics only": (engine) => hpaPolicy({ "spec.scaling.engine": engine }),
  "triggers with scale to zero": (engine) => kedaPolicy({ "spec.scaling.engine": engine }),
  "triggers without scale to zero": (engine) =>
    kedaPolicy({
      "spec.scaling.engine": engine,
      "spec.replicas.min": 1,
      "spec.scaling.scaleToZero": undefined,
    }),
  "scale to zero on a Prometheus metric": (engine) =>
    hpaPolicy({
      "spec.scaling.engine": engine,
      "spec.replicas.min": 0,
      "spec.scaling.metrics": { gpuUtilization: { targetUtilization: 70, prometheus } },
    }),
  "a Prometheus metric without scale to zero": (engine) =>
    hpaPolicy({
      "spec.scaling.engine": engine,
      "spec.scaling.metrics.queueDepth": { targetAverageValue: 10, prometheus },
    }),
  "a Prometheus metric and an External metric": (engine) =>
    hpaPolicy({
      "spec.scaling.engine": engine,
      "spec.scaling.metrics": {
        gpuUtilization: { targetUtilization: 70, prometheus },
        external: [{ metricName: "requests_per_second", targetAverageValue: 100 }],
      },
    }),
  fallback: (engine) =>
    kedaPolicy({
      "spec.scaling.engine": engine,
      "spec.scaling.fallback": { failureThreshold: 3, replicas: 2 },
    }),
};

type Expected = "HPA" | "KEDA" | "KedaNotInstalled" | "KedaNotRunning" | "invalid";

const KEDA_DOWN: KedaAvailability = {
  state: "not-running",
  message: "v1beta1.external.metrics.k8s.io is not Available",
};

// [scenario, engine, KEDA installed, KEDA absent]
const table: [string, string, Expected, Expected][] = [
  ["resource metrics only", "Auto", "HPA", "HPA"],
  ["resource metrics only", "HPA", "HPA", "HPA"],
  ["resource metrics only", "KEDA", "KEDA", "KedaNotInstalled"],
  ["triggers with scale to zero", "Auto", "KEDA", "KedaNotInstalled"],
  ["triggers with scale to zero", "KEDA", "KEDA", "KedaNotInstalled"],
  ["triggers with scale to zero", "HPA", "invalid", "invalid"],
  ["triggers without scale to zero", "Auto", "KEDA", "KedaNotInstalled"],
  ["triggers without scale to zero", "KEDA", "KEDA", "KedaNotInstalled"],
  ["scale to zero on a Prometheus metric", "Auto", "KEDA", "KedaNotInstalled"],
  ["scale to zero on a Prometheus metric", "KEDA", "KEDA", "KedaNotInstalled"],
  // A Prometheus metric is read by KEDA when it can be; without KEDA the HPA reads it as an External metric.
  ["a Prometheus metric without scale to zero", "Auto", "KEDA", "HPA"],
  ["a Prometheus metric without scale to zero", "HPA", "HPA", "HPA"],
  ["a Prometheus metric without scale to zero", "KEDA", "KEDA", "KedaNotInstalled"],
  // KEDA cannot read the External metric: the HPA serves both (the GPU metric as an External metric).
  ["a Prometheus metric and an External metric", "Auto", "HPA", "HPA"],
  ["a Prometheus metric and an External metric", "HPA", "HPA", "HPA"],
  ["a Prometheus metric and an External metric", "KEDA", "invalid", "invalid"],
  ["fallback", "Auto", "KEDA", "KedaNotInstalled"],
  ["fallback", "HPA", "invalid", "invalid"],
];

function outcome(
  scenario: string,
  engine: string,
  keda: KedaAvailability,
  current?: "HPA" | "KEDA",
): Expected {
  const build = scenarios[scenario];
  if (build === undefined) throw new Error(`no scenario ${scenario}`);
  let policy: MLAutoscalePolicy;
  try {
    policy = build(engine);
  } catch {
    return "invalid";
  }
  const choice = chooseEngine(policy.spec, keda, current);
  return choice.engine ?? choice.reason;
}

/** With KEDA's CRDs installed but KEDA not running: what a new policy gets, and one already on KEDA. */
function whileKedaDown(expectedWhenRunning: Expected, absent: Expected): [Expected, Expected] {
  if (expectedWhenRunning !== "KEDA") return [expectedWhenRunning, expectedWhenRunning];
  // A policy an HPA can serve goes to the HPA; one that needs KEDA waits for it. Neither leaves KEDA
  // once on it: KEDA takes part in every hand-over.
  return [absent === "HPA" ? "HPA" : "KedaNotRunning", "KEDA"];
}

describe("chooseEngine", () => {
  it.each(table)(
    "%s, engine %s: %s with KEDA installed, %s without",
    (scenario, engine, installed, absent) => {
      expect(outcome(scenario, engine, KEDA_RUNNING)).toBe(installed);
      expect(outcome(scenario, engine, KEDA_ABSENT)).toBe(absent);
    },
  );

  it.each(table)(
    "%s, engine %s, KEDA's CRDs installed but KEDA not running: a new policy and one on KEDA",
    (scenario, engine, installed, absent) => {
      const [fresh, onKeda] = whileKedaDown(installed, absent);
      expect(outcome(scenario, engine, KEDA_DOWN)).toBe(fresh);
      expect(outcome(scenario, engine, KEDA_DOWN, "HPA")).toBe(fresh);
      if (installed !== "invalid") expect(outcome(scenario, engine, KEDA_DOWN, "KEDA")).toBe(onKeda);
    },
  );

  it("says why KEDA is not running, and that it is not running rather than absent", () => {
    const choice = chooseEngine(kedaPolicy().spec, KEDA_DOWN);
    expect(choice).toEqual({
      engine: undefined,
      reason: "KedaNotRunning",
      message: expect.stringContaining("v1beta1.external.metrics.k8s.io is not Available") as unknown,
    });
    expect(choice.engine === undefined ? choice.message : "").toContain("scaling.triggers");
  });

  it("explains a missing KEDA with the fields that need it", () => {
    const choice = chooseEngine(kedaPolicy().spec, KEDA_ABSENT);
    expect(choice.engine).toBeUndefined();
    if (choice.engine !== undefined) return;
    expect(choice.reason).toBe("KedaNotInstalled");
    expect(choice.message).toContain("scaling.triggers");
    const explicit = chooseEngine(hpaPolicy({ "spec.scaling.engine": "KEDA" }).spec, KEDA_ABSENT);
    expect(explicit.engine === undefined ? explicit.message : "").toContain("scaling.engine is KEDA");
  });
});

describe("buildDesiredChildren per engine", () => {
  it("keeps every metric: an External metric next to a Prometheus one goes to the HPA", () => {
    const result = buildDesiredChildren(
      hpaPolicy({
        "spec.scaling.metrics": {
          gpuUtilization: { targetUtilization: 70, prometheus },
          external: [{ metricName: "requests_per_second", targetAverageValue: 100 }],
        },
      }),
      { keda: KEDA_RUNNING },
    );
    if (!result.ok) throw new Error(result.message);
    expect(result.children.hpa?.spec?.metrics?.map((m) => m.external?.metric.name)).toEqual([
      "DCGM_FI_DEV_GPU_UTIL",
      "requests_per_second",
    ]);
  });

  it("builds an HPA and no KEDA objects for the HPA engine", () => {
    const result = buildDesiredChildren(hpaPolicy(), { keda: KEDA_RUNNING });
    if (!result.ok) throw new Error(result.message);
    expect(result.children.engine).toBe("HPA");
    expect(result.children.hpa).toBeDefined();
    expect(result.children.scaledObject).toBeUndefined();
    expect(result.children.triggerAuthentication).toBeUndefined();
    expect(result.children.deployment).toBeDefined();
    expect(result.children.pdb).toBeDefined();
  });

  it("builds a ScaledObject and its TriggerAuthentication, and no HPA, for KEDA", () => {
    const result = buildDesiredChildren(kedaPolicy(), { keda: KEDA_RUNNING });
    if (!result.ok) throw new Error(result.message);
    expect(result.children.engine).toBe("KEDA");
    expect(result.children.hpa).toBeUndefined();
    expect(result.children.scaledObject).toBeDefined();
    expect(result.children.triggerAuthentication).toBeDefined();
  });

  it("returns KedaNotInstalled, and builds nothing, when KEDA is needed and absent", () => {
    const result = buildDesiredChildren(kedaPolicy(), { keda: KEDA_ABSENT });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toBe("KedaNotInstalled");
  });
});

describe("buildDesiredChildren with an External metric no server answers", () => {
  const keda: ExternalMetricsApi = { servable: false, permanent: true, message: "KEDA holds the API" };
  const external = [
    { metricName: "requests_per_second", selector: { service: "ml" }, targetAverageValue: 100 },
  ];

  it("makes no HPA whose every metric is unreadable, keeps the workload, and says why", () => {
    const result = buildDesiredChildren(hpaPolicy({ "spec.scaling.metrics": { external } }), {
      keda: KEDA_RUNNING,
      externalMetrics: keda,
    });
    if (!result.ok) throw new Error(result.message);
    expect(result.children.hpa).toBeUndefined();
    expect(result.children.deployment).toBeDefined();
    expect(result.children.pdb).toBeDefined();
    expect(result.children.problem).toEqual({
      reason: "ExternalMetricsUnavailable",
      withheld: true,
      message:
        "the HPA cannot read its External metric requests_per_second: KEDA holds the API; no HorizontalPodAutoscaler is created until one can",
    });
  });

  it("keeps an HPA that other metrics drive, and says which metric it cannot read", () => {
    const result = buildDesiredChildren(
      hpaPolicy({ "spec.scaling.metrics": { cpu: { targetUtilization: 60 }, external } }),
      { keda: KEDA_RUNNING, externalMetrics: keda },
    );
    if (!result.ok) throw new Error(result.message);
    expect(result.children.hpa?.spec?.metrics).toHaveLength(2);
    expect(result.children.problem).toMatchObject({ withheld: false, reason: "ExternalMetricsUnavailable" });
  });

  it("keeps the HPA through an outage of the server: it will read again", () => {
    const result = buildDesiredChildren(hpaPolicy({ "spec.scaling.metrics": { external } }), {
      keda: KEDA_RUNNING,
      externalMetrics: { servable: false, permanent: false, message: "not Available" },
    });
    if (!result.ok) throw new Error(result.message);
    expect(result.children.hpa).toBeDefined();
    expect(result.children.problem?.withheld).toBe(false);
  });

  it("reports nothing for a policy without External metrics", () => {
    const result = buildDesiredChildren(hpaPolicy(), { keda: KEDA_RUNNING, externalMetrics: keda });
    if (!result.ok) throw new Error(result.message);
    expect(result.children.problem).toBeUndefined();
    expect(result.children.hpa).toBeDefined();
  });
});
