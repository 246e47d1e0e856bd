// What the child builders may write, by the Kubernetes version of the API server that receives it. An API
// server whose feature gate is off drops the gated field without an error (strict field validation
// included): written anyway, it never reaches the object, so every resync would find a difference and
// write again, and a preStop hook whose only handler was dropped is refused. Each entry follows the gate's
// default in k8s.io/kubernetes pkg/features/kube_features.go; a cluster that turns off a beta gate that is
// on by default is not modelled.
import type { MLAutoscalePolicy } from "../../../api/v1alpha1/index.js";

export interface KubernetesVersion {
  major: number;
  minor: number;
}

/**
 * The oldest version the operator supports: the chart's ValidatingAdmissionPolicy (who may do what through
 * a policy) needs admissionregistration.k8s.io/v1, GA in 1.30, and the preStop sleep action is on by
 * default from 1.30.
 */
export const OLDEST_SUPPORTED_KUBERNETES: KubernetesVersion = { major: 1, minor: 30 };

export interface KubernetesFeatures {
  /** The version the set is for, as the server reports it ("v1.30.14") or as asked ("1.30"); absent: newest. */
  version?: string;
  /** A preStop `sleep` handler (PodLifecycleSleepAction: beta and on by default in 1.30, GA in 1.34). */
  sleepAction: boolean;
  /** A `sleep` of 0 seconds (PodLifecycleSleepActionAllowZero: alpha in 1.32, beta and on in 1.33). */
  zeroSecondSleep: boolean;
  /**
   * `behavior.scaleUp/scaleDown.tolerance` of an autoscaling/v2 HPA (HPAConfigurableTolerance: alpha and
   * off in 1.33 and 1.34, beta and on in 1.35).
   */
  hpaTolerance: boolean;
}

/** Everything the builders can write: rendering without a version, and the newest servers. */
export const NEWEST_KUBERNETES_FEATURES: KubernetesFeatures = {
  sleepAction: true,
  zeroSecondSleep: true,
  hpaTolerance: true,
};

/** The features a server of this version has with its default feature gates. */
export function kubernetesFeatures(version: KubernetesVersion, reported?: string): KubernetesFeatures {
  const atLeast = (minor: number): boolean =>
    version.major > 1 || (version.major === 1 && version.minor >= minor);
  return {
    version: reported ?? `${version.major}.${version.minor}`,
    sleepAction: atLeast(30),
    zeroSecondSleep: atLeast(33),
    hpaTolerance: atLeast(35),
  };
}

export function isSupportedKubernetes(version: KubernetesVersion): boolean {
  const oldest = OLDEST_SUPPORTED_KUBERNETES;
  return version.major > oldest.major || (version.major === oldest.major && version.minor >= oldest.minor);
}

/**
 * "1.30", "v1.30", "1.30.14" or a server's gitVersion ("v1.30.14-eks-a1b2c3"): the major and minor version.
 * Undefined for anything else.
 */
export function parseKubernetesVersion(text: string): KubernetesVersion | undefined {
  const match = /^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+][0-9A-Za-z.+-]*)?$/.exec(text.trim());
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]) };
}

/**
 * What of the policy this server cannot apply, each with what applies instead; the builders leave it out.
 * A zero-second drain on a server without zero-second sleeps is not listed: no preStop hook is the same.
 */
export function featuresNotApplied(policy: MLAutoscalePolicy, features: KubernetesFeatures): string[] {
  const notApplied: string[] = [];
  const runs = features.version === undefined ? "" : ` and the cluster runs ${features.version}`;
  const drainSeconds = policy.spec.workload.template?.shutdown.drainSeconds ?? 0;
  if (!features.sleepAction && drainSeconds > 0) {
    notApplied.push(
      `workload.template.shutdown.drainSeconds ${drainSeconds} is not applied: the preStop sleep action needs ` +
        `Kubernetes 1.30 or newer${runs}, so pods get SIGTERM without waiting for endpoints to drop them`,
    );
  }
  if (!features.hpaTolerance) {
    const behavior = policy.spec.scaling.behavior;
    for (const direction of ["scaleUp", "scaleDown"] as const) {
      const tolerance = behavior[direction]?.tolerance;
      if (tolerance === undefined) continue;
      notApplied.push(
        `scaling.behavior.${direction}.tolerance ${tolerance} is not applied: the HPA's tolerance field needs ` +
          `Kubernetes 1.35 or newer (the HPAConfigurableTolerance feature gate, off by default in 1.33 and ` +
          `1.34)${runs}; the HPA controller's cluster-wide tolerance applies ` +
          `(--horizontal-pod-autoscaler-tolerance, 0.1 by default)`,
      );
    }
  }
  return notApplied;
}
