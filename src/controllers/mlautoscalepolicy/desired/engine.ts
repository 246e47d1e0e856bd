// Which autoscaler serves a policy: the HPA or KEDA.
import { hpaOnlyMetrics, needsKeda, type Engine, type PolicySpec } from "../../../api/v1alpha1/index.js";

/**
 * What the cluster offers of KEDA. KEDA's CRDs can be served while KEDA itself is not running (uninstalled
 * with its CRDs kept, or down): then nothing turns a ScaledObject into an HPA, and its webhooks may refuse
 * every write.
 */
export type KedaAvailability =
  | { state: "running" }
  | { state: "absent" }
  | {
      state: "not-running";
      /** Why the operator believes KEDA is not running, for the policy's conditions. */
      message: string;
    };

export const KEDA_RUNNING: KedaAvailability = { state: "running" };
export const KEDA_ABSENT: KedaAvailability = { state: "absent" };

export type EngineChoice =
  | { engine: Engine; reason: string }
  | { engine: undefined; reason: "KedaNotInstalled" | "KedaNotRunning"; message: string };

/** True when a metric names a Prometheus server that a KEDA trigger can poll directly. */
function prefersKeda(spec: PolicySpec): boolean {
  const m = spec.scaling.metrics;
  return (
    m.queueDepth?.prometheus !== undefined ||
    m.gpuUtilization?.prometheus !== undefined ||
    m.server?.prometheus !== undefined
  );
}

function withoutKeda(keda: KedaAvailability, needs: string): EngineChoice {
  return keda.state === "absent"
    ? {
        engine: undefined,
        reason: "KedaNotInstalled",
        message: `${needs} but KEDA's CRDs (keda.sh/v1alpha1 ScaledObject) are not installed`,
      }
    : {
        engine: undefined,
        reason: "KedaNotRunning",
        message: `${needs} but KEDA is not running: ${keda.state === "not-running" ? keda.message : ""}`,
      };
}

/**
 * Auto picks KEDA when the policy needs it (triggers, scale to zero, fallback) or reads a metric straight
 * from Prometheus and has none that only the HPA can read, provided KEDA runs; otherwise the HPA. A
 * policy that needs KEDA while it is absent or not running gets no engine and a reason that says which.
 *
 * `current` is the engine the policy's children use now. While KEDA is not running, a policy on KEDA
 * stays on KEDA: every hand-over needs KEDA's part (it adopts or releases the HPA, and its finalizer must
 * run for a ScaledObject to be deleted), and KEDA's HPA keeps scaling meanwhile.
 */
export function chooseEngine(spec: PolicySpec, keda: KedaAvailability, current?: Engine): EngineChoice {
  const running = keda.state === "running";
  const stayOnKeda = keda.state === "not-running" && current === "KEDA";
  const requested = spec.scaling.engine;
  if (requested === "HPA") return { engine: "HPA", reason: "scaling.engine is HPA" };
  if (requested === "KEDA") {
    if (running) return { engine: "KEDA", reason: "scaling.engine is KEDA" };
    if (stayOnKeda) return { engine: "KEDA", reason: "scaling.engine is KEDA; KEDA is not running" };
    return withoutKeda(keda, "scaling.engine is KEDA");
  }
  if (needsKeda(spec)) {
    if (running) return { engine: "KEDA", reason: "triggers, scale to zero or fallback need KEDA" };
    if (stayOnKeda) return { engine: "KEDA", reason: "triggers, scale to zero or fallback need KEDA" };
    return withoutKeda(keda, "the policy needs KEDA (scaling.triggers, replicas.min 0 or scaling.fallback)");
  }
  // Not when another metric is one only the HPA can read: KEDA would drop it.
  if (prefersKeda(spec) && !hpaOnlyMetrics(spec.scaling.metrics) && (running || stayOnKeda))
    return { engine: "KEDA", reason: "a metric is read from Prometheus" };
  const why =
    keda.state === "running"
      ? "no trigger needs KEDA"
      : keda.state === "absent"
        ? "KEDA is not installed"
        : "KEDA is not running";
  return { engine: "HPA", reason: why };
}
