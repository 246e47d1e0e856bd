// The chart's user roles fold into Kubernetes' own view, edit and admin (the controller manager's
// clusterrole-aggregation controller runs in the e2e profile): users bound to the built-in roles get policy
// rights through them, and the admission policy then answers them as for anyone else.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { withChanges, type JsonObject } from "../fixtures/invalid-policies.js";
import { createTestNamespace, deleteTestNamespace, kubectl, testBinDir } from "../support/cluster.js";
import { eventually } from "../support/operator.js";

const execFileAsync = promisify(execFile);
const REPO = resolve(import.meta.dirname, "../..");
const CHART = join(REPO, "config", "chart");
const RELEASE = "user-roles-e2e";

const EDITOR = "erin-edit";
const VIEWER = "victor-view";
const ADMIN = "ada-admin";
/** Bound to the chart's -edit role alone: may write policies, not Deployments. */
const PROBE = "pat-policies-only";

async function must(args: string[], input?: string): Promise<string> {
  const result = await kubectl(args, input === undefined ? {} : { input });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

function exampleObject(file: string): JsonObject {
  const [document] = parseAllDocuments(readFileSync(join(REPO, "examples", file), "utf8"));
  if (document === undefined) throw new Error(`${file} is empty`);
  return document.toJS() as JsonObject;
}

const example = (file: string): string => JSON.stringify(exampleObject(file));

describe("the chart's user roles, aggregated into Kubernetes' view, edit and admin", () => {
  let namespace = "";
  let installed = "";

  const as = (user: string, args: string[], input?: string) =>
    kubectl([...args, `--namespace=${namespace}`, `--as=${user}`], input === undefined ? {} : { input });
  const canI = async (user: string, verb: string): Promise<string> =>
    (await as(user, ["auth", "can-i", verb, "mlautoscalepolicies.mlautoscale.io"])).stdout.trim();

  beforeAll(async () => {
    namespace = await createTestNamespace("user-roles");
    const { stdout } = await execFileAsync(join(testBinDir(), "helm"), [
      "template",
      RELEASE,
      CHART,
      "--namespace=mlautoscale-system",
      "--show-only=templates/user-roles.yaml",
      "--show-only=templates/admission-policy.yaml",
      `--set=watchNamespaces={${namespace}}`,
    ]);
    installed = stdout;
    await must(["apply", "--server-side", "-f", "-"], installed);
    for (const [user, role] of [
      [EDITOR, "edit"],
      [VIEWER, "view"],
      [ADMIN, "admin"],
    ] as const) {
      await must([
        "create",
        "rolebinding",
        `${user}-${role}`,
        `--namespace=${namespace}`,
        `--clusterrole=${role}`,
        `--user=${user}`,
      ]);
    }
    // Admission policies take effect a moment after they are written: wait until one refuses a user who may
    // write policies and nothing else.
    await must([
      "create",
      "rolebinding",
      `${PROBE}-policies`,
      `--namespace=${namespace}`,
      `--clusterrole=${RELEASE}-mlautoscale-edit`,
      `--user=${PROBE}`,
    ]);
    await eventually(
      async () => {
        const probe = await as(
          PROBE,
          ["create", "--dry-run=server", "-f", "-"],
          example("1-realtime-inference.yaml"),
        );
        return probe.stderr.includes(`${PROBE} may not create deployments.apps`) ? true : undefined;
      },
      "the admission policy to be enforced",
      60_000,
    );
    // The aggregation controller copies the chart's rules into the built-in roles shortly after.
    await eventually(
      async () => ((await canI(EDITOR, "create")) === "yes" ? true : undefined),
      "the edit role to include the chart's rules",
      60_000,
    );
  });

  afterAll(async () => {
    if (installed !== "") await kubectl(["delete", "--ignore-not-found", "-f", "-"], { input: installed });
    if (namespace !== "") {
      await deleteTestNamespace(namespace);
      await kubectl(["wait", "--for=delete", `namespace/${namespace}`, "--timeout=120s"]);
    }
  });

  it("puts the policy rules into the built-in roles themselves", async () => {
    const rulesOf = async (role: string) =>
      (
        JSON.parse(await must(["get", "clusterrole", role, "-o", "json"])) as {
          rules: { apiGroups?: string[]; resources?: string[]; verbs: string[] }[];
        }
      ).rules.filter((rule) => rule.apiGroups?.includes("mlautoscale.io"));
    const verbs = async (role: string) =>
      [...new Set((await rulesOf(role)).flatMap((rule) => rule.verbs))].sort();
    expect(await verbs("view")).toEqual(["get", "list", "watch"]);
    expect(await verbs("edit")).toEqual(
      ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"].sort(),
    );
    expect(await verbs("admin")).toEqual(await verbs("edit"));
  });

  it("lets a user bound to edit create a policy, which the admission policy admits", async () => {
    const created = await as(EDITOR, ["create", "-f", "-"], example("1-realtime-inference.yaml"));
    expect(created.stderr).toBe("");
    expect(created.stdout).toContain("created");
    // edit holds what the example asks of the operator; it holds nothing of KEDA's.
    const sharedAuthentication = withChanges(exampleObject("2-batch-rabbitmq.yaml"), {
      "metadata.name": "shared-auth",
      "spec.authentication": { triggerAuthenticationRef: "shared-rabbitmq" },
    });
    const withSharedAuthentication = await as(
      EDITOR,
      ["create", "--dry-run=server", "-f", "-"],
      JSON.stringify(sharedAuthentication),
    );
    expect(withSharedAuthentication.code).not.toBe(0);
    expect(withSharedAuthentication.stderr).toContain(
      `${EDITOR} may not create scaledobjects.keda.sh in namespace ${namespace}`,
    );
  });

  it("lets a user bound to view list policies but not create or change them", async () => {
    const listed = await as(VIEWER, ["get", "mlap", "-o", "name"]);
    expect(listed.stderr).toBe("");
    expect(listed.stdout.trim()).toBe("mlautoscalepolicy.mlautoscale.io/resnet50-inference");
    expect(await canI(VIEWER, "create")).toBe("no");
    expect(await canI(VIEWER, "delete")).toBe("no");
    const refused = await as(VIEWER, ["create", "-f", "-"], example("3-training-sqs.yaml"));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`User "${VIEWER}" cannot create resource "mlautoscalepolicies"`);
  });

  it("lets a user bound to admin create and delete policies", async () => {
    const created = await as(ADMIN, ["create", "-f", "-"], example("3-training-sqs.yaml"));
    expect(created.stderr).toBe("");
    const deleted = await as(ADMIN, ["delete", "mlap", "finetune-workers"]);
    expect(deleted.stderr).toBe("");
    expect(await canI(ADMIN, "deletecollection")).toBe("yes");
  });
});
