// The chart's ValidatingAdmissionPolicy on a real kube-apiserver, rendered by the real Helm: three users
// (impersonated, so the policy sees them in request.userInfo) get the answers the rules give them, with
// messages naming what is missing; the trigger endpoint table gets the answers the operator's own rules give
// it; and the operator's allow-list holds where the admission policy is not bound.
//
// The integration control plane runs no controller manager, so Kubernetes' edit role aggregates nothing
// here: the editor is bound to what edit aggregates (system:aggregate-to-edit and the chart's -edit role).
// test/e2e/user-roles.test.ts binds users to the built-in roles themselves.
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { parseEndpointPattern, Reason, type PolicyStatus } from "../../src/api/v1alpha1/index.js";
import { KubeRestClient } from "../../src/runtime/rest.js";
import { validBasePolicy, withChanges, type Json, type JsonObject } from "../fixtures/invalid-policies.js";
import { ALLOWED_TRIGGER_ENDPOINTS, TRIGGER_ENDPOINT_CASES } from "../fixtures/trigger-endpoints.js";
import {
  createTestNamespace,
  deleteTestNamespace,
  kubectl,
  testBinDir,
  testKubeConfig,
} from "../support/cluster.js";
import { eventually, getIfExists, startOperator, type InProcessOperator } from "../support/operator.js";

const execFileAsync = promisify(execFile);
const REPO = resolve(import.meta.dirname, "../..");
const CHART = join(REPO, "config", "chart");
const RELEASE = "admission-it";
const FULLNAME = `${RELEASE}-mlautoscale`;
/** The chart checks at most this many Secrets by name (its $secretSlots). */
const SECRET_SLOTS = 8;

const EDITOR = "edith-editor";
const POLICY_AUTHOR = "paul-policies-only";
const DEPLOYER = "dana-some-secrets";
/** The Secrets DANA may read by name; she may not read others, nor list. */
const READABLE_SECRETS = Array.from({ length: SECRET_SLOTS + 1 }, (_, i) => `readable-${i}`);

interface Rendered {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
}

interface Outcome {
  admitted: boolean;
  /** kubectl's error output: the API server's message. */
  message: string;
}

async function render(values: string[]): Promise<Rendered[]> {
  const { stdout } = await execFileAsync(
    join(testBinDir(), "helm"),
    ["template", RELEASE, CHART, "--namespace=mlautoscale-system", ...values],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return parseAllDocuments(stdout)
    .map((document) => document.toJS() as Rendered | null)
    .filter((object): object is Rendered => object !== null);
}

async function must(args: string[], input?: string): Promise<string> {
  const result = await kubectl(args, input === undefined ? {} : { input });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** Creates the policy as `user` (the cluster admin when undefined); a server-side dry run unless `store`. */
async function submit(
  user: string | undefined,
  namespace: string,
  policy: JsonObject,
  store = false,
): Promise<Outcome> {
  const result = await kubectl(
    [
      "create",
      "-f",
      "-",
      `--namespace=${namespace}`,
      ...(user === undefined ? [] : [`--as=${user}`]),
      ...(store ? [] : ["--dry-run=server"]),
    ],
    { input: JSON.stringify(policy) },
  );
  return { admitted: result.code === 0, message: result.stderr.trim() };
}

function expectRefused(outcome: Outcome, ...parts: string[]): void {
  expect(outcome.admitted, "admitted").toBe(false);
  expect(outcome.message).toContain("denied request: ");
  for (const part of parts) expect(outcome.message).toContain(part);
}

function expectAdmitted(outcome: Outcome): void {
  expect(outcome.message).toBe("");
  expect(outcome.admitted).toBe(true);
}

function named(name: string, changes: Record<string, Json | undefined> = {}): JsonObject {
  return withChanges(validBasePolicy(), { "metadata.name": name, ...changes });
}

/** A template policy reading each Secret through an environment variable. */
function readingSecrets(name: string, secrets: readonly string[]): JsonObject {
  return named(name, {
    "spec.workload.template.env": secrets.map((secret, i) => ({
      name: `SECRET_${i}`,
      secretKeyRef: { name: secret, key: "value" },
    })),
  });
}

const targetRefPolicy = (name: string): JsonObject =>
  named(name, { "spec.workload": { targetRef: { kind: "Deployment", name: "existing-server" } } });

function examplePolicies(): JsonObject[] {
  const dir = join(REPO, "examples");
  return readdirSync(dir)
    .filter((file) => file.endsWith(".yaml"))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), "utf8")).map((d) => d.toJS() as JsonObject),
    );
}

describe("the admission policy: a policy asks the operator only for what its author may do", () => {
  let namespace = "";
  /** Not bound by the admission policy: only the operator's own allow-list applies there. */
  let unboundNamespace = "";
  let admissionObjects = "";
  let operator: InProcessOperator | undefined;

  beforeAll(async () => {
    namespace = await createTestNamespace("admission");
    unboundNamespace = await createTestNamespace("admission-unbound");
    const rendered = await render([
      `--set=watchNamespaces={${namespace}}`,
      `--set=triggerEndpoints.allowed={${ALLOWED_TRIGGER_ENDPOINTS.join(",")}}`,
    ]);
    const wanted = rendered.filter(
      (o) =>
        o.kind === "ValidatingAdmissionPolicy" ||
        o.kind === "ValidatingAdmissionPolicyBinding" ||
        (o.kind === "ClusterRole" &&
          Object.keys(o.metadata.labels ?? {}).some((l) =>
            l.startsWith("rbac.authorization.k8s.io/aggregate-to"),
          )),
    );
    expect(wanted.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      `ClusterRole/${FULLNAME}-admin`,
      `ClusterRole/${FULLNAME}-edit`,
      `ClusterRole/${FULLNAME}-view`,
      `ValidatingAdmissionPolicy/${FULLNAME}-policy-author-rights`,
      `ValidatingAdmissionPolicyBinding/${FULLNAME}-policy-author-rights`,
    ]);
    admissionObjects = wanted.map((o) => JSON.stringify(o)).join("\n---\n");
    await must(["apply", "--server-side", "-f", "-"], admissionObjects);

    const bind = (name: string, role: string, user: string, kind: "clusterrole" | "role" = "clusterrole") =>
      must([
        "create",
        "rolebinding",
        name,
        `--namespace=${namespace}`,
        `--${kind}=${role}`,
        `--user=${user}`,
      ]);
    // What Kubernetes' edit role holds once the chart's -edit role is aggregated into it.
    await bind("editor-edit", "system:aggregate-to-edit", EDITOR);
    await bind("editor-policies", `${FULLNAME}-edit`, EDITOR);
    await bind("author-policies", `${FULLNAME}-edit`, POLICY_AUTHOR);
    await bind("deployer-policies", `${FULLNAME}-edit`, DEPLOYER);
    await must([
      "create",
      "role",
      "deployer-deployments",
      `--namespace=${namespace}`,
      "--verb=create,patch",
      "--resource=deployments.apps",
    ]);
    await must([
      "create",
      "role",
      "deployer-secrets",
      `--namespace=${namespace}`,
      "--verb=get",
      "--resource=secrets",
      ...READABLE_SECRETS.map((secret) => `--resource-name=${secret}`),
    ]);
    await must([
      "create",
      "role",
      "deployer-runner",
      `--namespace=${namespace}`,
      "--verb=impersonate",
      "--resource=serviceaccounts",
      "--resource-name=runner",
    ]);
    for (const role of ["deployer-deployments", "deployer-secrets", "deployer-runner"]) {
      await bind(role, role, DEPLOYER, "role");
    }

    // Admission policies take effect a moment after they are written.
    const refused = TRIGGER_ENDPOINT_CASES.find((c) => c.refused !== undefined);
    if (refused === undefined) throw new Error("no refused endpoint case");
    await eventually(
      async () => ((await submit(undefined, namespace, refused.policy)).admitted ? undefined : true),
      "the admission policy to be enforced",
    );
  });

  afterAll(async () => {
    await operator?.stop();
    if (admissionObjects !== "") {
      await kubectl(["delete", "--ignore-not-found", "-f", "-"], { input: admissionObjects });
    }
    for (const ns of [namespace, unboundNamespace]) if (ns) await deleteTestNamespace(ns);
  });

  it("admits the examples, and policies naming Secrets and a ServiceAccount, from an editor", async () => {
    for (const example of examplePolicies()) expectAdmitted(await submit(EDITOR, namespace, example));
    const everything = named("editor-everything", {
      "spec.workload.template.serviceAccountName": "runner",
      "spec.workload.template.env": [{ name: "TOKEN", secretKeyRef: { name: "model-token", key: "token" } }],
    });
    expectAdmitted(await submit(EDITOR, namespace, everything));
    expectAdmitted(await submit(EDITOR, namespace, readingSecrets("editor-many-secrets", READABLE_SECRETS)));
  });

  it("refuses a template policy to a user who may not create Deployments, and admits a targetRef one", async () => {
    const refused = await submit(POLICY_AUTHOR, namespace, named("author-template"), true);
    expectRefused(
      refused,
      "spec.workload.template: the operator would create a Deployment for this policy",
      `${POLICY_AUTHOR} may not create deployments.apps in namespace ${namespace}`,
    );
    expect(refused.message).toContain("(Forbidden)");
    expect(
      await getIfExists(new KubeRestClient(testKubeConfig()), policyPath(namespace, "author-template")),
    ).toBe(undefined);
    // Attaching to an existing workload asks the operator for no Deployment.
    expectAdmitted(await submit(POLICY_AUTHOR, namespace, targetRefPolicy("author-target"), true));
  });

  it("refuses a policy naming a Secret its author may not read, naming the field and the Secret", async () => {
    const inEnv = readingSecrets("deployer-env", ["readable-0", "db-password"]);
    expectRefused(
      await submit(DEPLOYER, namespace, inEnv),
      "spec.workload.template.env[1].secretKeyRef.name: the policy hands Secret db-password",
      `${DEPLOYER} may not get secrets/db-password in namespace ${namespace}`,
    );
    const inAuthentication = withChanges(readingSecrets("deployer-auth", ["readable-0"]), {
      "spec.scaling": {
        triggers: [{ type: "rabbitmq", metadata: { queueName: "jobs", mode: "QueueLength", value: "5" } }],
      },
      "spec.authentication": {
        secretRef: { name: "rabbitmq-admin", parameters: [{ parameter: "host", key: "host" }] },
      },
    });
    expectRefused(
      await submit(DEPLOYER, namespace, inAuthentication),
      "spec.authentication.secretRef.name: the policy hands Secret rabbitmq-admin",
      `may not get secrets/rabbitmq-admin in namespace ${namespace}`,
    );
    // The same Secret twice counts once; every one readable: admitted.
    const readable = readingSecrets("deployer-readable", ["readable-0", "readable-1", "readable-0"]);
    expectAdmitted(await submit(DEPLOYER, namespace, readable));
    expectAdmitted(await submit(EDITOR, namespace, inEnv));
  });

  it(`checks up to ${SECRET_SLOTS} Secrets by name, and more only for who may read every Secret`, async () => {
    const atTheLimit = READABLE_SECRETS.slice(0, SECRET_SLOTS);
    expectAdmitted(await submit(DEPLOYER, namespace, readingSecrets("deployer-limit", atTheLimit)));
    // The last slot checks too.
    const lastUnreadable = [...atTheLimit.slice(0, SECRET_SLOTS - 1), "db-password"];
    expectRefused(
      await submit(DEPLOYER, namespace, readingSecrets("deployer-last", lastUnreadable)),
      `spec.workload.template.env[${SECRET_SLOTS - 1}].secretKeyRef.name`,
      "secrets/db-password",
    );
    expectRefused(
      await submit(DEPLOYER, namespace, readingSecrets("deployer-over", READABLE_SECRETS)),
      `the policy names ${SECRET_SLOTS + 1} Secrets and ${DEPLOYER} may not get secrets in namespace ${namespace}`,
    );
  });

  it("refuses a ServiceAccount its author may not impersonate", async () => {
    const runAs = (name: string, serviceAccount: string) =>
      named(name, { "spec.workload.template.serviceAccountName": serviceAccount });
    expectAdmitted(await submit(DEPLOYER, namespace, runAs("deployer-runner", "runner")));
    expectAdmitted(await submit(DEPLOYER, namespace, runAs("deployer-default", "default")));
    expectRefused(
      await submit(DEPLOYER, namespace, runAs("deployer-other", "model-admin")),
      "spec.workload.template.serviceAccountName: the pods would run as ServiceAccount model-admin",
      `${DEPLOYER} may not impersonate serviceaccounts/model-admin in namespace ${namespace}`,
    );
  });

  it("refuses an existing TriggerAuthentication to who may not create ScaledObjects", async () => {
    const usingTriggerAuthentication = named("editor-trigger-auth", {
      "spec.scaling": {
        triggers: [{ type: "rabbitmq", metadata: { queueName: "jobs", mode: "QueueLength", value: "5" } }],
      },
      "spec.authentication": { triggerAuthenticationRef: "shared-rabbitmq" },
    });
    expectRefused(
      await submit(EDITOR, namespace, usingTriggerAuthentication),
      "spec.authentication.triggerAuthenticationRef: triggers using TriggerAuthentication shared-rabbitmq",
      `${EDITOR} may not create scaledobjects.keda.sh in namespace ${namespace}`,
    );
    await must([
      "create",
      "role",
      "editor-scaledobjects",
      `--namespace=${namespace}`,
      "--verb=create",
      "--resource=scaledobjects.keda.sh",
    ]);
    await must([
      "create",
      "rolebinding",
      "editor-scaledobjects",
      `--namespace=${namespace}`,
      "--role=editor-scaledobjects",
      `--user=${EDITOR}`,
    ]);
    await eventually(
      async () => ((await submit(EDITOR, namespace, usingTriggerAuthentication)).admitted ? true : undefined),
      "the editor's new right to be seen",
    );
  });

  it("checks updates that change the spec or the labels, and lets others through", async () => {
    expectAdmitted(await submit(undefined, namespace, named("admins-policy"), true));
    const patch = (body: JsonObject) =>
      kubectl([
        "patch",
        "mlap",
        "admins-policy",
        `--namespace=${namespace}`,
        `--as=${POLICY_AUTHOR}`,
        "--type=merge",
        `--patch=${JSON.stringify(body)}`,
      ]);
    expect((await patch({ metadata: { annotations: { note: "reviewed" } } })).stderr).toBe("");
    expect((await patch({ metadata: { finalizers: ["example.com/hold"] } })).stderr).toBe("");
    expect((await patch({ metadata: { finalizers: null } })).stderr).toBe("");
    const specChange = await patch({ spec: { replicas: { max: 4 } } });
    expect(specChange.code).not.toBe(0);
    expect(specChange.stderr).toContain(`${POLICY_AUTHOR} may not create deployments.apps`);
    const labelChange = await patch({ metadata: { labels: { team: "search" } } });
    expect(labelChange.code).not.toBe(0);
    expect(labelChange.stderr).toContain(`${POLICY_AUTHOR} may not create deployments.apps`);
  });

  it.each(TRIGGER_ENDPOINT_CASES.map((c) => [c.name, c] as const))(
    "trigger endpoints: %s",
    async (_name, c) => {
      const outcome = await submit(undefined, namespace, c.policy);
      if (c.refused === undefined) {
        expectAdmitted(outcome);
        return;
      }
      // Invalid (422), not Forbidden: no right would make the address acceptable.
      expectRefused(outcome, `denied request: ${c.refused.field}: `, c.refused.text, "is invalid");
      expect(outcome.message).toMatch(
        /is not an allowed trigger endpoint \(allowed: [^)]+\)$|cannot be checked against the allowed trigger endpoints$/,
      );
    },
  );

  it("as shipped in config/admission/, restricts no endpoint, errs on no example and still checks rights", async () => {
    const plain = readFileSync(join(REPO, "config", "admission", "policy-author-rights.yaml"), "utf8");
    await must(["apply", "--server-side", "-f", "-"], plain);
    try {
      await must([
        "create",
        "rolebinding",
        "author-policies",
        `--namespace=${unboundNamespace}`,
        `--clusterrole=${FULLNAME}-edit`,
        `--user=${POLICY_AUTHOR}`,
      ]);
      await eventually(
        async () =>
          (await submit(POLICY_AUTHOR, unboundNamespace, named("plain-template"))).admitted
            ? undefined
            : true,
        "the plain admission policy to be enforced",
      );
      expectRefused(
        await submit(POLICY_AUTHOR, unboundNamespace, named("plain-template")),
        `${POLICY_AUTHOR} may not create deployments.apps in namespace ${unboundNamespace}`,
      );
      // An expression that erred would refuse (failurePolicy Fail): these are all admitted.
      for (const policy of [...examplePolicies(), ...TRIGGER_ENDPOINT_CASES.map((c) => c.policy)]) {
        expectAdmitted(await submit(undefined, unboundNamespace, policy));
      }
    } finally {
      await kubectl(["delete", "--ignore-not-found", "-f", "-"], { input: plain });
    }
  });

  it("leaves a policy with an endpoint outside the operator's list unapplied where no admission policy is bound", async () => {
    operator = await startOperator(testKubeConfig(), {
      namespaces: [unboundNamespace],
      allowedTriggerEndpoints: ALLOWED_TRIGGER_ENDPOINTS.map(parseEndpointPattern),
    });
    const refused = TRIGGER_ENDPOINT_CASES.find(
      (c) => c.name === "a list of brokers with one outside the list",
    );
    if (refused === undefined) throw new Error("fixture missing");
    expectAdmitted(await submit(undefined, unboundNamespace, refused.policy, true));
    const rest = new KubeRestClient(testKubeConfig());
    const name = "endpoints";
    const condition = await eventually(async () => {
      const policy = await getIfExists<{ status?: PolicyStatus }>(rest, policyPath(unboundNamespace, name));
      return policy?.status?.conditions?.find((c) => c.type === "Reconciled" && c.status === "False");
    }, "the policy's Reconciled condition");
    expect(condition.reason).toBe(Reason.EndpointNotAllowed);
    expect(condition.message).toContain(
      "spec.scaling.triggers[0].metadata.bootstrapServers: evil.example.com:9092 is not an allowed trigger endpoint",
    );
    const deployment = await getIfExists(
      rest,
      `/apis/apps/v1/namespaces/${unboundNamespace}/deployments/${name}`,
    );
    expect(deployment).toBe(undefined);
    // The same policy where the admission policy is bound never gets stored.
    expectRefused(await submit(undefined, namespace, refused.policy), "evil.example.com:9092");
  });
});

function policyPath(namespace: string, name: string): string {
  return `/apis/mlautoscale.io/v1alpha1/namespaces/${namespace}/mlautoscalepolicies/${name}`;
}
