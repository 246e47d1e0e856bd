// Against kube-apiserver of the oldest supported Kubernetes: the server is that version; it drops or refuses
// what the newest version's children hold (so a builder that ignored the version would fail here); the
// operator reads the version and writes nothing the server drops, so its steady state makes no writes over
// resyncs, and the policy says what is not applied.
import type { KubernetesObject, V1Deployment, V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { KubeConfig } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { oldestKubernetes } from "../../dev/controlplane/index.js";
import {
  buildDesiredChildren,
  childObjects,
  KEDA_RUNNING,
  NEWEST_KUBERNETES_FEATURES,
  OLDEST_SUPPORTED_KUBERNETES,
  type KubernetesFeatures,
} from "../../src/controllers/mlautoscalepolicy/desired/index.js";
import { FEATURE_POLICIES } from "../fixtures/feature-policies.js";
import { validBasePolicy, withChanges, type JsonObject } from "../fixtures/invalid-policies.js";
import {
  dryRunCreate,
  serverFeatures,
  serverVersion,
  storedPolicy,
  withNamespace,
} from "../support/admission.js";
import { ApiProxy } from "../support/api-proxy.js";
import { createTestNamespace, deleteTestNamespace, kubectl, testKubeConfig } from "../support/cluster.js";
import { eventually, startOperator, type InProcessOperator } from "../support/operator.js";
import { condition, get, getPolicy, paths } from "../support/policies.js";

const EVERYTHING = "HPA with every template, metric, behavior and placement option";

/** The feature policy with a tolerance in both directions and a drain: what older servers lack. */
function everythingPolicy(namespace: string): JsonObject {
  const policy = FEATURE_POLICIES[EVERYTHING];
  if (policy === undefined) throw new Error(`no feature policy "${EVERYTHING}"`);
  return withNamespace(
    withChanges(policy, {
      "spec.scaling.behavior.scaleDown": { selectPolicy: "Disabled", tolerance: 0.2 },
    }),
    namespace,
  );
}

/** The base policy with no drain: a zero-second preStop sleep before 1.33 is refused. */
function noDrainPolicy(namespace: string): JsonObject {
  return withNamespace(
    withChanges(validBasePolicy(), {
      "metadata.name": "no-drain",
      "spec.workload.template.shutdown": { drainSeconds: 0 },
    }),
    namespace,
  );
}

function childrenFor(policy: Parameters<typeof buildDesiredChildren>[0], kubernetes: KubernetesFeatures) {
  const result = buildDesiredChildren(policy, { keda: KEDA_RUNNING, kubernetes });
  if (!result.ok) throw new Error(result.message);
  return result.children;
}

const kindOf = (objects: KubernetesObject[], kind: string): KubernetesObject => {
  const found = objects.find((o) => o.kind === kind);
  if (found === undefined) throw new Error(`no ${kind} among ${objects.map((o) => o.kind).join(", ")}`);
  return found;
};

describe(`the oldest supported Kubernetes (${oldestKubernetes()})`, () => {
  let namespace = "";
  beforeAll(async () => {
    namespace = await createTestNamespace("oldest");
  });
  afterAll(async () => {
    await deleteTestNamespace(namespace);
  });

  it("is what the test cluster runs, and what the operator and versions.env call the oldest", async () => {
    const version = await serverVersion();
    expect(`${version.major}.${version.minor}`).toBe(oldestKubernetes());
    expect(OLDEST_SUPPORTED_KUBERNETES).toEqual({ major: version.major, minor: version.minor });
  });

  it("refuses the HPA tolerance and a zero-second preStop sleep, which the newest children hold", async () => {
    const everything = await storedPolicy(namespace, everythingPolicy(namespace));
    const newestHpa = kindOf(
      childObjects(childrenFor(everything, NEWEST_KUBERNETES_FEATURES)),
      "HorizontalPodAutoscaler",
    );
    // Before 1.33 autoscaling/v2 has no tolerance field: a strict write is refused (1.33 and 1.34 have the
    // field behind a gate that is off, and drop it).
    const refused = await dryRunCreate(namespace, newestHpa);
    expect(refused).toContain('unknown field "spec.behavior.scaleUp.tolerance"');
    expect(refused).toContain('unknown field "spec.behavior.scaleDown.tolerance"');

    const noDrain = await storedPolicy(namespace, noDrainPolicy(namespace));
    const newestDeployment = kindOf(
      childObjects(childrenFor(noDrain, NEWEST_KUBERNETES_FEATURES)),
      "Deployment",
    );
    expect(await dryRunCreate(namespace, newestDeployment)).toContain(
      "lifecycle.preStop.sleep: Invalid value: 0: must be greater than 0",
    );

    // Built for this server, every child is taken as written.
    const here = await serverFeatures();
    for (const policy of [everything, noDrain]) {
      for (const object of childObjects(childrenFor(policy, here))) {
        expect(await dryRunCreate(namespace, object), `${object.kind} ${policy.metadata.name}`).toBe("");
      }
    }
  });
});

describe("the operator on the oldest supported Kubernetes", () => {
  let namespace = "";
  let proxy: ApiProxy | undefined;
  let operator: InProcessOperator | undefined;

  beforeAll(async () => {
    namespace = await createTestNamespace("oldest-operator");
  });
  afterEach(async () => {
    await operator?.stop();
    await proxy?.stop();
  });
  afterAll(async () => {
    await deleteTestNamespace(namespace);
  });

  it("writes no field the server drops, says what is not applied, and makes no writes over resyncs", async () => {
    // The operator talks to the API server through a proxy that records each request it sends.
    proxy = new ApiProxy(testKubeConfig());
    const operatorConfig = new KubeConfig();
    operatorConfig.loadFromOptions({
      clusters: [{ name: "proxy", server: await proxy.start(), skipTLSVerify: true }],
      users: [{ name: "operator", token: "replaced-by-the-proxy" }],
      contexts: [{ name: "proxy", cluster: "proxy", user: "operator" }],
      currentContext: "proxy",
    });
    operator = await startOperator(operatorConfig, { namespaces: [namespace], resyncPeriodMs: 1_000 });

    const policies = [everythingPolicy(namespace), noDrainPolicy(namespace)];
    const applied = await kubectl(["apply", "--server-side", "--field-manager=test-user", "-f", "-"], {
      namespace,
      input: policies.map((p) => stringify(p)).join("---\n"),
    });
    expect(applied.stderr).toBe("");
    const everything = "hpa-everything";
    const reconciled = await eventually(async () => {
      const policy = await getPolicy(namespace, everything);
      const c = condition(policy, "Reconciled");
      return c?.reason === "FeatureUnavailable" &&
        policy?.status?.observedGeneration === policy?.metadata.generation
        ? c
        : undefined;
    }, `${everything} Reconciled with reason FeatureUnavailable`);
    expect(reconciled.status).toBe("True");
    const version = await serverVersion();
    expect(reconciled.message).toContain(
      `scaling.behavior.scaleUp.tolerance 0.05 is not applied: the HPA's tolerance field needs Kubernetes 1.35 or newer`,
    );
    expect(reconciled.message).toContain(`the cluster runs ${version.gitVersion}`);
    expect(reconciled.message).toContain("scaling.behavior.scaleDown.tolerance 0.2 is not applied");
    await eventually(
      async () => (await getPolicy(namespace, "no-drain"))?.status?.conditions !== undefined || undefined,
      "no-drain's status",
    );
    expect(condition(await getPolicy(namespace, "no-drain"), "Reconciled")).toMatchObject({
      status: "True",
      reason: "ReconcileSucceeded",
    });

    const hpa = await get<V2HorizontalPodAutoscaler>(paths.hpa(namespace, everything));
    expect(hpa?.spec?.behavior?.scaleUp?.policies).toHaveLength(2);
    expect(hpa?.spec?.behavior?.scaleUp).not.toHaveProperty("tolerance");
    const drained = await get<V1Deployment>(paths.deployment(namespace, everything));
    expect(drained?.spec?.template.spec?.containers[0]?.lifecycle).toEqual({
      preStop: { sleep: { seconds: 15 } },
    });
    const undrained = await get<V1Deployment>(paths.deployment(namespace, "no-drain"));
    expect(undrained?.spec?.template.spec?.containers[0]).not.toHaveProperty("lifecycle");

    // Steady state: over several resyncs (one a second) the operator writes nothing.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const before = proxy.writes().length;
    expect(before).toBeGreaterThan(6);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(proxy.writes().slice(before)).toEqual([]);
  });
});
