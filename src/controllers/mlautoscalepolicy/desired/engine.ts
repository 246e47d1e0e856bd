// Which autoscaler serves a policy: the HPA or KEDA.
import { hpaOnlyMetrics, needsKeda, type Engine, type PolicySpec } from "../../../api/v1alpha1/index.js";

export type EngineChoice =
  { engine: Engine; reason: string } | { engine: undefined; reason: "KedaNotInstalled"; message: string };

/** True when a metric names a Prometheus server that a KEDA trigger can poll directly. */
function prefersKeda(spec: PolicySpec): boolean {
  const m = spec.scaling.metrics;
  return m.queueDepth?.prometheus !== undefined || m.gpuUtilization?.prometheus !== undefined;
}

/**
 * Auto picks KEDA when the policy needs it (triggers, scale to zero, fallback) or reads a metric straight
 * from Prometheus and has none that only the HPA can read, provided KEDA's CRDs are installed; otherwise
 * the HPA. A policy that needs KEDA while
 * it is absent gets no engine and the reason KedaNotInstalled.
 */
export function chooseEngine(spec: PolicySpec, kedaInstalled: boolean): EngineChoice {
  const requested = spec.scaling.engine;
  if (requested === "HPA") return { engine: "HPA", reason: "scaling.engine is HPA" };
  if (requested === "KEDA") {
    return kedaInstalled
      ? { engine: "KEDA", reason: "scaling.engine is KEDA" }
      : {
          engine: undefined,
          reason: "KedaNotInstalled",
          message: "scaling.engine is KEDA but KEDA's CRDs (keda.sh/v1alpha1 ScaledObject) are not installed",
        };
  }
  if (needsKeda(spec)) {
    return kedaInstalled
      ? { engine: "KEDA", reason: "triggers, scale to zero or fallback need KEDA" }
      : {
          engine: undefined,
          reason: "KedaNotInstalled",
          message:
            "the policy needs KEDA (scaling.triggers, replicas.min 0 or scaling.fallback) but KEDA's CRDs are not installed",
        };
  }
  // Not when another metric is one only the HPA can read: KEDA would drop it.
  if (prefersKeda(spec) && !hpaOnlyMetrics(spec.scaling.metrics) && kedaInstalled)
    return { engine: "KEDA", reason: "a metric is read from Prometheus" };
  return { engine: "HPA", reason: kedaInstalled ? "no trigger needs KEDA" : "KEDA is not installed" };
}
