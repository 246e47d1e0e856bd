// The container image's steps without a container engine: build, pack, install the production
// dependencies into an empty folder, and run `node dist/cli.js operator` from there against the cluster.
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { imageEntrypoint } from "../../dev/image.js";
import { createTestNamespace, deleteTestNamespace, kubectl, testKubeconfigPath } from "../support/cluster.js";
import {
  conditionStatus,
  getOperatorEndpoint,
  startOperatorProcess,
  type OperatorProcess,
} from "../support/operator-process.js";

const execFileAsync = promisify(execFile);

/** Runs a command; a failure carries its output, which says why. */
async function run(
  command: string,
  args: string[],
  options: { cwd?: string } = {},
): Promise<{ stdout: string }> {
  try {
    return await execFileAsync(command, args, { ...options, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed:\n${stdout ?? ""}${stderr ?? ""}`, { cause: error });
  }
}
const REPO = resolve(import.meta.dirname, "../..");
const NPM = "npm";
const WAIT = { timeout: 60_000, interval: 500 };

describe("the packed operator (the image's steps)", () => {
  let workDir = "";
  let appDir = "";
  let namespace = "";
  let operator: OperatorProcess | undefined;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), "mlautoscale-image-"));
    appDir = join(workDir, "app");
    mkdirSync(appDir);
    // Same commands as the Dockerfile's build and runtime-deps stages.
    await run(NPM, ["run", "build"], { cwd: REPO });
    const { stdout } = await run(NPM, ["pack", "--json", "--pack-destination", workDir], { cwd: REPO });
    const [packed] = JSON.parse(stdout) as { filename: string }[];
    if (packed === undefined) throw new Error(`npm pack printed no file: ${stdout}`);
    await run("tar", ["-xzf", join(workDir, packed.filename), "-C", appDir, "--strip-components=1"]);
    copyFileSync(join(REPO, "package-lock.json"), join(appDir, "package-lock.json"));
    await run(NPM, ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"], {
      cwd: appDir,
    });
    namespace = await createTestNamespace("image");
  }, 600_000);

  afterAll(async () => {
    await operator?.stop();
    if (namespace) await deleteTestNamespace(namespace);
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it("ships dist, the CRD and production dependencies only", () => {
    expect(existsSync(join(appDir, "dist", "cli.js"))).toBe(true);
    expect(existsSync(join(appDir, "crds", "mlautoscale.io_mlautoscalepolicies.yaml"))).toBe(true);
    expect(existsSync(join(appDir, "src"))).toBe(false);
    const manifest = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    for (const name of Object.keys(manifest.dependencies)) {
      expect(existsSync(join(appDir, "node_modules", name)), name).toBe(true);
    }
    // Exactly what the lockfile marks as needed only for development is left out (a package that a
    // production dependency also requires, such as @types/node, is not marked so and stays).
    const lock = JSON.parse(readFileSync(join(REPO, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, entry]) => entry.dev === true && path.startsWith("node_modules/"))
      .map(([path]) => path);
    expect(devOnly).toEqual(expect.arrayContaining(["node_modules/typescript", "node_modules/vitest"]));
    for (const path of devOnly) expect(existsSync(join(appDir, path)), path).toBe(false);
  });

  it("reconciles a policy to Reconciled, then Ready once its Deployment has replicas.min available replicas", async () => {
    // As the image's ENTRYPOINT runs it: its Node.js flags, and its script under /app.
    const entrypoint = imageEntrypoint();
    expect(entrypoint.script.startsWith("/app/")).toBe(true);
    operator = startOperatorProcess({
      cwd: appDir,
      args: [
        ...entrypoint.nodeFlags,
        entrypoint.script.slice("/app/".length),
        "operator",
        `--kubeconfig=${testKubeconfigPath()}`,
        `--namespaces=${namespace}`,
        "--leader-elect=false",
        "--metrics-port=0",
        "--bind-address=127.0.0.1",
      ],
    });
    const port = await operator.metricsPort();
    await vi.waitFor(async () => {
      expect((await getOperatorEndpoint(port, "/readyz")).status).toBe(200);
    }, WAIT);

    const applied = await kubectl(["apply", "-f", join(REPO, "examples", "1-realtime-inference.yaml")], {
      namespace,
    });
    expect(applied.stderr).toBe("");
    const name = "resnet50-inference";

    await vi.waitFor(async () => {
      const got = await kubectl(["get", "mlap", name, "-o", "json"], { namespace });
      expect(conditionStatus(JSON.parse(got.stdout), "Reconciled"), operator?.output()).toBe("True");
    }, WAIT);
    for (const kind of ["deployment", "horizontalpodautoscaler", "poddisruptionbudget"]) {
      const child = await kubectl(["get", kind, name, "-o", "name"], { namespace });
      expect(child.code, `${kind}: ${child.stderr}`).toBe(0);
    }

    // The integration profile runs no deployment or HPA controller: report the 2 available replicas
    // (the example's replicas.min) as they would.
    const patched = await kubectl(
      [
        "patch",
        "deployment",
        name,
        "--subresource=status",
        "--type=merge",
        "-p",
        JSON.stringify({
          status: { replicas: 2, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 2 },
        }),
      ],
      { namespace },
    );
    expect(patched.code, patched.stderr).toBe(0);
    await vi.waitFor(async () => {
      const got = await kubectl(["get", "mlap", name, "-o", "json"], { namespace });
      expect(conditionStatus(JSON.parse(got.stdout), "Ready"), operator?.output()).toBe("True");
    }, WAIT);

    const metrics = await getOperatorEndpoint(port, "/metrics");
    expect(metrics.status).toBe(200);
    // The policy just made Ready is counted, and the controller reports its reconciles.
    expect(metrics.body).toContain('mlautoscale_policies{engine="HPA",ready="True"} 1');
    expect(metrics.body).toMatch(
      /controller_runtime_reconcile_total\{controller="[^"]+",result="success"\} [1-9]/,
    );

    expect(await operator.stop()).toBe(0);
  });
});
