// The MLAutoscalePolicy CRD and everything `render` produces, checked against a real kube-apiserver: the
// invalid-policy table is rejected (or, for "reported" entries, stored) as it says, valid policies are
// accepted with the same defaults zod fills in, and every rendered child, built for the server's Kubernetes
// version as the operator builds it, passes the API server's validation. The "oldest" project runs this file
// against the oldest supported version too.
import { CustomObjectsApi, type KubernetesObject } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GROUP, parsePolicy, PLURAL, VERSION } from "../../src/api/v1alpha1/index.js";
import { PolicyInputError, renderPolicy } from "../../src/render/index.js";
import {
  buildDesiredChildren,
  childObjects,
  KEDA_RUNNING,
} from "../../src/controllers/mlautoscalepolicy/desired/index.js";
import { FEATURE_POLICIES } from "../fixtures/feature-policies.js";
import {
  INVALID_POLICIES,
  validBasePolicy,
  validKedaBasePolicy,
  withChanges,
  type Json,
  type JsonObject,
} from "../fixtures/invalid-policies.js";
import {
  createPolicy,
  dryRunCreate as dryRunCreateIn,
  examplePolicies,
  namedFor,
  serverFeatures,
  storedPolicy as storedPolicyIn,
  withNamespace,
} from "../support/admission.js";
import { createTestNamespace, deleteTestNamespace, kubectl, testKubeConfig } from "../support/cluster.js";

describe("MLAutoscalePolicy admission", () => {
  let namespace = "";
  beforeAll(async () => {
    namespace = await createTestNamespace("crd-validation");
  });
  afterAll(async () => {
    await deleteTestNamespace(namespace);
  });

  const rejected = INVALID_POLICIES.filter((c) => c.admission === "rejected");
  const reported = INVALID_POLICIES.filter((c) => c.admission === "reported");

  it.each(rejected.map((c) => [c.name, c] as const))("rejects %s, naming the field", async (_name, c) => {
    const outcome = await createPolicy(namespace, c.policy, true);
    expect(outcome.accepted, "the API server accepted it").toBe(false);
    if (outcome.accepted) return;
    // 422 for schema and CEL failures; 400 for the strict decoding error of an unknown field.
    expect([400, 422]).toContain(outcome.code);
    expect(outcome.message).toContain(c.serverField ?? c.field);
    expect(outcome.message).toContain(c.serverMessage ?? c.message);
  });

  it.each(reported.map((c) => [c.name, c] as const))(
    "stores %s, which only the operator's validation reports",
    async (_name, c) => {
      const outcome = await createPolicy(namespace, c.policy, true);
      expect(outcome.accepted ? "" : outcome.message).toBe("");
      expect(parsePolicy(c.policy).ok).toBe(false);
    },
  );

  // Quantities zod and the API server must agree on. The server's isQuantity() also takes a bare suffix or
  // exponent ("Gi", "e3"), which no Pod accepts; zod is stricter there on purpose.
  const quantities: [string, boolean][] = [
    ["500m", true],
    ["2", true],
    ["4Gi", true],
    ["1.5", true],
    [".5", true],
    ["5.", true],
    ["1e3", true],
    ["1e-3", true],
    ["1k", true],
    ["1Ki", true],
    ["1u", true],
    ["1Ei", true],
    ["1.2.3", false],
    ["1e", false],
    ["1K", false],
    ["1ki", false],
    ["..5", false],
    ["1ee3", false],
    ["1Kii", false],
    ["1mm", false],
    ["1 Gi", false],
    ["1GiB", false],
    ["0x10", false],
  ];

  it.each(quantities)("agrees with zod whether %j is a quantity (%s)", async (quantity, isQuantity) => {
    const policy = withChanges(validBasePolicy(), {
      "spec.workload.template.resources.requests.memory": quantity,
    });
    const outcome = await createPolicy(namespace, policy, true);
    expect(outcome.accepted).toBe(isQuantity);
    expect(parsePolicy(policy).ok).toBe(isQuantity);
  });

  const valid: [string, JsonObject][] = [
    ["the base policy", validBasePolicy()],
    ["the KEDA base policy", validKedaBasePolicy()],
    ...examplePolicies().map(({ file, value }): [string, JsonObject] => [`examples/${file}`, value]),
    ...Object.entries(FEATURE_POLICIES),
  ];

  it.each(valid)("accepts %s and defaults it as zod does", async (_name, policy) => {
    const outcome = await createPolicy(namespace, policy, false);
    expect(outcome.accepted ? "" : outcome.message).toBe("");
    if (!outcome.accepted) return;
    const api = testKubeConfig().makeApiClient(CustomObjectsApi);
    const metadata = outcome.object["metadata"] as { name: string };
    const stored = (await api.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: PLURAL,
      name: metadata.name,
    })) as JsonObject;
    const parsed = parsePolicy(policy);
    if (!parsed.ok) throw new Error(parsed.problems.join("\n"));
    // The API server applies the CRD's defaults; they must be the ones the controller assumes.
    expect(stored["spec"]).toEqual(parsed.policy.spec);
    // What the server stored parses to the same policy (no field the schema does not know).
    const reparsed = parsePolicy(stored);
    expect(reparsed.ok ? reparsed.policy.spec : reparsed.problems).toEqual(parsed.policy.spec);
  });
});

describe("MLAutoscalePolicy names, columns and status subresource", () => {
  let namespace = "";
  beforeAll(async () => {
    namespace = await createTestNamespace("crd-columns");
    const policy = withChanges(validBasePolicy(), { "metadata.name": "columns" });
    const outcome = await createPolicy(namespace, policy, false);
    if (!outcome.accepted) throw new Error(outcome.message);
  });
  afterAll(async () => {
    await deleteTestNamespace(namespace);
  });

  it("is listed by its short name and its category", async () => {
    for (const resource of ["mlap", "ml", "mlautoscalepolicies.mlautoscale.io"]) {
      const result = await kubectl(["get", resource, "-o", "name"], { namespace });
      expect(result.stderr).toBe("");
      expect(result.stdout.trim()).toBe("mlautoscalepolicy.mlautoscale.io/columns");
    }
  });

  it("writes status only through the status subresource, and prints it in the columns", async () => {
    const status = {
      status: {
        engine: "HPA",
        replicas: 3,
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "Available",
            message: "all children applied",
            lastTransitionTime: "2026-01-01T00:00:00Z",
          },
          {
            type: "Reconciled",
            status: "True",
            reason: "ReconcileSucceeded",
            message: "",
            lastTransitionTime: "2026-01-01T00:00:00Z",
          },
        ],
      },
    };
    const viaMain = await kubectl(
      ["patch", "mlap", "columns", "--type=merge", "-p", JSON.stringify(status)],
      {
        namespace,
      },
    );
    expect(viaMain.code, viaMain.stderr).toBe(0);
    const before = await kubectl(["get", "mlap", "columns", "-o", "jsonpath={.status.engine}"], {
      namespace,
    });
    // The main resource ignores status: only the operator, through /status, writes it.
    expect(before.stdout).toBe("");

    const viaStatus = await kubectl(
      ["patch", "mlap", "columns", "--subresource=status", "--type=merge", "-p", JSON.stringify(status)],
      { namespace },
    );
    expect(viaStatus.code, viaStatus.stderr).toBe(0);
    const table = await kubectl(["get", "mlap", "columns"], { namespace });
    const [header, row] = table.stdout
      .trim()
      .split("\n")
      .map((line) => line.trim().split(/\s+/));
    expect(header).toEqual(["NAME", "ENGINE", "MIN", "MAX", "REPLICAS", "READY", "AGE"]);
    expect(row?.slice(0, 6)).toEqual(["columns", "HPA", "1", "10", "3", "True"]);
    const wide = await kubectl(["get", "mlap", "columns", "-o", "wide"], { namespace });
    expect(wide.stdout.split("\n")[0]).toContain("REASON");
    expect(wide.stdout).toContain("ReconcileSucceeded");
  });

  it("refuses a status whose conditions repeat a type", async () => {
    const condition = {
      type: "Ready",
      status: "True",
      reason: "Available",
      message: "",
      lastTransitionTime: "2026-01-01T00:00:00Z",
    };
    const result = await kubectl(
      [
        "patch",
        "mlap",
        "columns",
        "--subresource=status",
        "--type=merge",
        "-p",
        JSON.stringify({ status: { conditions: [condition, { ...condition, status: "False" }] } }),
      ],
      { namespace },
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("status.conditions[1]: Duplicate value");
  });
});

/** Every field path of a JSON value, with list indexes as numbers. */
function fieldPaths(value: Json, path: (string | number)[]): (string | number)[][] {
  if (Array.isArray(value)) return [path, ...value.flatMap((item, i) => fieldPaths(item, [...path, i]))];
  if (typeof value === "object" && value !== null) {
    return [path, ...Object.entries(value).flatMap(([key, child]) => fieldPaths(child, [...path, key]))];
  }
  return [path];
}

function withValueAt(root: JsonObject, path: (string | number)[], value: Json | undefined): JsonObject {
  return withChanges(root, { [path.join(".")]: value });
}

// Values put in place of each field in turn. null is left out on purpose: the API server drops nulls
// before validation, so a stored policy never holds one, while render refuses them in files.
const MUTATIONS: [string, Json | undefined][] = [
  ["removed", undefined],
  ["empty string", ""],
  ["0", 0],
  ["-1", -1],
  ["1e9", 1e9],
  ["1.5", 1.5],
  ['"7"', "7"],
  ["true", true],
  ["a 300-character string", "a".repeat(300)],
  ["{}", {}],
  ["[]", []],
];

describe("zod is never looser than admission", () => {
  let namespace = "";
  beforeAll(async () => {
    namespace = await createTestNamespace("zod-vs-admission");
  });
  afterAll(async () => {
    await deleteTestNamespace(namespace);
  });

  it(
    "refuses every one-field change of the feature policies that the API server refuses",
    { timeout: 600_000 },
    async () => {
      const candidates = new Map<string, { label: string; policy: JsonObject }>();
      // The policies that use every option between them (HPA, KEDA, an LLM server's); the attached ones
      // add only targetRef.
      const everything = Object.entries(FEATURE_POLICIES).filter(([name]) => name.includes("every"));
      expect(everything).toHaveLength(3);
      for (const [name, base] of everything) {
        const spec = base["spec"];
        if (spec === undefined) throw new Error(`${name} has no spec`);
        for (const path of fieldPaths(spec, ["spec"]).filter((p) => p.length > 1)) {
          for (const [label, value] of MUTATIONS) {
            const policy = withValueAt(base, path, value);
            const key = JSON.stringify(policy);
            if (!candidates.has(key))
              candidates.set(key, { label: `${name}: ${path.join(".")} = ${label}`, policy });
          }
        }
      }
      const looser: string[] = [];
      let refusedByBoth = 0;
      let onlyZod = 0;
      const queue = [...candidates.values()];
      // A few requests at a time: enough to keep the API server busy, few enough not to be throttled.
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
            const outcome = await createPolicy(namespace, next.policy, true);
            const zodAccepts = parsePolicy(next.policy).ok;
            if (!outcome.accepted && zodAccepts) looser.push(`${next.label}: ${outcome.message}`);
            else if (!outcome.accepted) refusedByBoth += 1;
            else if (!zodAccepts) onlyZod += 1;
          }
        }),
      );
      console.log(
        `${candidates.size} one-field changes: ${refusedByBoth} refused by both, ${onlyZod} refused by zod only, ` +
          `${looser.length} refused by the API server only`,
      );
      expect(looser).toEqual([]);
      expect(refusedByBoth).toBeGreaterThan(candidates.size / 2);
    },
  );
});

describe("rendered children", () => {
  let namespace = "";
  beforeAll(async () => {
    namespace = await createTestNamespace("render-validation");
  });
  afterAll(async () => {
    await deleteTestNamespace(namespace);
  });

  const storedPolicy = (value: JsonObject) => storedPolicyIn(namespace, value);
  const dryRunCreate = (object: KubernetesObject) => dryRunCreateIn(namespace, object);

  const cases = examplePolicies().flatMap(({ file, value }) =>
    [true, false].map((kedaInstalled) => [file, kedaInstalled ? "installed" : "absent", value] as const),
  );

  it.each(cases)("%s with KEDA %s: every child passes server-side validation", async (_file, keda, value) => {
    const policy = await storedPolicy(namedFor(value, namespace, keda));
    let objects: KubernetesObject[];
    try {
      objects = renderPolicy(policy, {
        kedaInstalled: keda === "installed",
        kubernetes: await serverFeatures(),
      }).objects;
    } catch (error) {
      // Only a policy that needs KEDA fails to render without it.
      expect(error).toBeInstanceOf(PolicyInputError);
      expect(keda).toBe("absent");
      expect((error as PolicyInputError).problems.join("\n")).toContain("KedaNotInstalled");
      return;
    }
    expect(objects.length).toBeGreaterThanOrEqual(3);
    for (const object of objects) {
      expect(object.metadata?.namespace).toBe(namespace);
      expect(object.metadata?.ownerReferences?.[0]?.uid).toBe(policy.metadata.uid);
      expect(await dryRunCreate(object), `${object.kind} ${object.metadata?.name ?? ""}`).toBe("");
    }
  });

  const featureCases = Object.entries(FEATURE_POLICIES);

  it.each(featureCases)("%s: every child passes server-side validation", async (_name, value) => {
    const policy = await storedPolicy(withNamespace(value, namespace));
    const targetSelector = { matchLabels: { app: "existing" } };
    const result = buildDesiredChildren(policy, {
      keda: KEDA_RUNNING,
      targetSelector,
      kubernetes: await serverFeatures(),
    });
    if (!result.ok) throw new Error(result.message);
    const objects = childObjects(result.children);
    expect(objects.map((o) => o.kind)).toContain("PodDisruptionBudget");
    for (const object of objects) {
      expect(await dryRunCreate(object), `${object.kind} ${object.metadata?.name ?? ""}`).toBe("");
    }
  });

  it("renders every kind the operator writes across the examples", () => {
    const kinds = new Set<string>();
    for (const { value } of examplePolicies()) {
      const parsed = parsePolicy(value);
      if (!parsed.ok) throw new Error(parsed.problems.join("\n"));
      for (const o of renderPolicy(parsed.policy, { kedaInstalled: true }).objects) kinds.add(o.kind ?? "");
    }
    expect([...kinds].sort()).toEqual([
      "Deployment",
      "HorizontalPodAutoscaler",
      "PodDisruptionBudget",
      "ScaledObject",
      "TriggerAuthentication",
    ]);
  });
});
