// `mlautoscale loadtest` as a user runs it, a child process against the run's real cluster: KEDA reading a
// real RabbitMQ queue, an HPA reading the emulator's queue through Prometheus and prometheus-adapter, and
// the errors a user meets first.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { stringify } from "yaml";
import { localExamples, prepareLocalBrokers, type Kubectl } from "../../dev/demo.js";
import { createRabbitMqClient } from "../../src/brokers/index.js";
import type { ScaledObject } from "../../src/keda/types.js";
import {
  clusterAddresses,
  createTestNamespace,
  deleteTestNamespace,
  kubectl,
  testKubeConfig,
  testKubeconfigPath,
} from "../support/cluster.js";
import { configureWorkload, emulatedWorkload } from "../support/emulator.js";
import { eventually, startOperator, type InProcessOperator } from "../support/operator.js";
import { applyObjects, getScaledObject, waitForCondition } from "../support/policies.js";
import { secondsToNextTick } from "../../src/loadtest/phases.js";

const REPO = resolve(import.meta.dirname, "../..");
const scratch = mkdtempSync(join(tmpdir(), "mlautoscale-loadtest-e2e-"));

type Document = {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string };
  spec: Record<string, unknown>;
};

interface Step {
  t: number;
  traceT: number | null;
  load: number;
  desiredReplicas: number | null;
  replicas: number | null;
  readyReplicas: number | null;
  queue: number | null;
}

interface Report {
  policy: string;
  namespace: string;
  startedAt: string;
  engine: string | null;
  source: { kind: string; description: string };
  summary: { published: number; scheduled: number; durationSeconds: number; interrupted: boolean };
  steps: Step[];
  simulation?: {
    policy: string;
    parameters: { model: { hpaFirstSyncSeconds: number; kedaFirstPollSeconds: number } };
    summary: { totalRequests: number };
    steps: { t: number; desiredReplicas: number }[];
  };
  comparison?: { windowSeconds: number; notes: string[] };
}

const namespaces: string[] = [];
const operators: InProcessOperator[] = [];

async function namespaceWithOperator(prefix: string): Promise<string> {
  const ns = await createTestNamespace(prefix);
  namespaces.push(ns);
  operators.push(await startOperator(testKubeConfig(), { namespaces: [ns], kedaDiscoveryIntervalMs: 2_000 }));
  return ns;
}

beforeAll(() => {
  if (!inject("keda")) throw new Error("these tests need the e2e cluster with KEDA running");
});

afterAll(async () => {
  await Promise.all(operators.map((operator) => operator.stop()));
  for (const ns of namespaces) await deleteTestNamespace(ns);
});

const kubectlIn =
  (namespace: string): Kubectl =>
  (args, input) =>
    kubectl(args, { namespace, ...(input !== undefined && { input }) });

function example(name: string): Document {
  const found = (localExamples(clusterAddresses()) as Document[]).find(
    (document) => document.kind === "MLAutoscalePolicy" && document.metadata.name === name,
  );
  if (found === undefined) throw new Error(`no example policy ${name}`);
  return found;
}

function write(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

interface Run {
  child: ChildProcess;
  /** What it wrote to stderr so far. */
  stderr(): string;
  done: Promise<{ code: number; stdout: string; stderr: string }>;
}

/** `mlautoscale loadtest ARGS`, from source, with the test cluster's kubeconfig and only the given addresses. */
function startLoadtest(args: string[], env: Record<string, string | undefined> = {}): Run {
  const childEnv: Record<string, string | undefined> = { ...process.env, KUBECONFIG: testKubeconfigPath() };
  for (const key of ["RABBITMQ_URL", "SQS_ENDPOINT", "KAFKA_BROKERS", "EMULATOR_URL"]) delete childEnv[key];
  Object.assign(childEnv, env);
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "loadtest", ...args], {
    cwd: REPO,
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const done = new Promise<{ code: number; stdout: string; stderr: string }>((resolvePromise, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) =>
      resolvePromise({ code: code ?? (signal ? -1 : 0), stdout, stderr }),
    );
  });
  return { child, stderr: () => stderr, done };
}

const loadtest = (args: string[], env: Record<string, string | undefined> = {}) =>
  startLoadtest(args, env).done;

/** The JSON report of a run that succeeded; the policy in the cluster is the file's, so no warning. */
function parseReport(result: { code: number; stdout: string; stderr: string }): Report {
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).not.toMatch(/^(warning|error):/m);
  return JSON.parse(result.stdout) as Report;
}

async function queueDepth(queueName: string): Promise<number> {
  const url = clusterAddresses().RABBITMQ_URL;
  if (url === undefined) throw new Error("no RabbitMQ in this cluster");
  const client = await createRabbitMqClient({ url, queueName });
  try {
    return await client.depth();
  } finally {
    await client.close();
  }
}

describe("mlautoscale loadtest against the local cluster", () => {
  it("publishes a trace to the RabbitMQ queue of a KEDA policy and reports what KEDA and the HPA did", async () => {
    const ns = await namespaceWithOperator("loadtest-rabbitmq");
    const queue = `${ns}-jobs`;
    // Example 2 with windows short enough for a test: polling 5 s, a 5 s model, a queue of its own.
    const policy = example("batch-embeddings");
    const scaling = policy.spec["scaling"] as {
      pollingIntervalSeconds?: number;
      triggers: { metadata: Record<string, string> }[];
    };
    scaling.pollingIntervalSeconds = 5;
    for (const trigger of scaling.triggers) trigger.metadata["queueName"] = queue;
    (policy.spec["workload"] as { template: { model: { loadSeconds: number } } }).template.model.loadSeconds =
      5;
    await prepareLocalBrokers(kubectlIn(ns), ns, [policy], clusterAddresses());
    await applyObjects(ns, policy);
    await eventually(
      async () => {
        const so: ScaledObject | undefined = await getScaledObject(ns, "batch-embeddings");
        return so?.status?.conditions?.find((c) => c.type === "Ready")?.status === "True" ? so : undefined;
      },
      "KEDA to report the ScaledObject Ready",
      120_000,
      500,
    );
    // The emulated workers take nothing: every message published stays in the queue.
    await eventually(
      () => configureWorkload(ns, "batch-embeddings", { serviceRatePerReplica: 0 }).then(() => true),
      "the emulator to know batch-embeddings",
    );

    // 45 s: 5 s idle, 30 s at 4 messages a second, 10 s idle: 120 messages.
    const trace = write(`${ns}.csv`, "t,rps\n0,0\n5,4\n35,0\n40,0\n");
    const file = write(`${ns}.yaml`, stringify(policy));
    const report = parseReport(
      await loadtest(["-f", file, "--trace", trace, "-n", ns, "-o", "json"], {
        RABBITMQ_URL: clusterAddresses().RABBITMQ_URL,
      }),
    );

    expect(report).toMatchObject({ policy: "batch-embeddings", namespace: ns, engine: "KEDA" });
    expect(report.source.kind).toBe("rabbitmq");
    expect(report.source.description).toContain(`RabbitMQ queue ${queue} at 127.0.0.1:`);
    expect(report.summary.published).toBe(120);
    expect(report.summary.scheduled).toBe(120);
    expect(report.steps).toHaveLength(45);
    expect(report.steps.map((step) => step.t)).toEqual([...Array(45).keys()]);
    expect(report.steps.slice(5, 35).every((step) => step.load === 4)).toBe(true);

    // The queue seen is what the broker holds: nobody consumes, so each second it is the running total.
    let total = 0;
    for (const step of report.steps) {
      total += step.load;
      expect(step.queue, `queue at ${step.t} s`).toBe(total);
    }
    expect(await queueDepth(queue)).toBe(120);

    // KEDA wakes the workload and its HPA asks for more replicas as the queue grows (5 messages each).
    const underLoad = report.steps.filter((step) => step.t >= 5);
    expect(underLoad.some((step) => (step.desiredReplicas ?? 0) > 0)).toBe(true);
    expect(Math.max(...underLoad.map((step) => step.desiredReplicas ?? 0))).toBeGreaterThanOrEqual(2);
    expect(Math.max(...underLoad.map((step) => step.replicas ?? 0))).toBeGreaterThanOrEqual(2);
  });

  it("sends HTTP-style load to the emulator and prints the simulation beside the observation", async () => {
    const ns = await namespaceWithOperator("loadtest-http");
    const policy: Document = {
      apiVersion: "mlautoscale.io/v1alpha1",
      kind: "MLAutoscalePolicy",
      metadata: { name: "svc" },
      spec: {
        workload: {
          template: {
            image: "registry.example.com/ml/model-server:1.0.0",
            model: { loadSeconds: 5 },
            resources: { requests: { cpu: "500m", memory: "1Gi" } },
            gpu: { count: 1 },
          },
        },
        replicas: { min: 1, max: 5 },
        // Without Prometheus the HPA reads the queue as a Pods metric (through prometheus-adapter).
        scaling: { engine: "HPA", metrics: { queueDepth: { targetAverageValue: 10 } } },
      },
    };
    await applyObjects(ns, policy);
    await waitForCondition(ns, "svc", "Reconciled", "True");
    const before = await eventually(() => emulatedWorkload(ns, "svc"), "the emulator to know svc");

    // 30 s at 20 requests a second: twice what one replica serves.
    const trace = write(`${ns}.csv`, "t,rps\n0,20\n15,20\n");
    const file = write(`${ns}.yaml`, stringify(policy));
    const report = parseReport(
      await loadtest(["-f", file, "--trace", trace, "-n", ns, "-o", "json", "--compare-simulation"], {
        EMULATOR_URL: clusterAddresses().EMULATOR_URL,
      }),
    );

    expect(report).toMatchObject({ policy: "svc", namespace: ns, engine: "HPA" });
    expect(report.source).toEqual({
      kind: "http",
      description: `HTTP requests to the workload emulator at ${clusterAddresses().EMULATOR_URL ?? ""} (${ns}/svc)`,
    });
    expect(report.summary.published).toBe(600);
    expect(report.steps).toHaveLength(30);
    expect(report.steps.every((step) => step.load === 20)).toBe(true);
    expect(Math.max(...report.steps.map((step) => step.queue ?? 0))).toBeGreaterThan(0);
    // The requests reached the emulated pods, which served them.
    await eventually(async () => {
      const after = await emulatedWorkload(ns, "svc");
      return after !== undefined && after.served > before.served + 100 ? after : undefined;
    }, "the emulator to serve the requests");
    // Both series: the observation and the simulator's prediction for the same policy and load.
    expect(report.simulation?.policy).toBe("svc");
    expect(report.simulation?.summary.totalRequests).toBeCloseTo(600, 3);
    expect(report.simulation?.steps.length).toBeGreaterThan(0);
    expect(report.comparison?.windowSeconds).toBe(30);
    expect(report.comparison?.notes.some((note) => note.startsWith("peak replicas:"))).toBe(true);
    // The simulation's HPA syncs where the cluster's do: every 15 s from the real HPA's creation (to the
    // half-second its timestamp allows), counted from the load's start (a few milliseconds before startedAt).
    const created = await kubectl(["get", "hpa", "svc", "-o", "jsonpath={.metadata.creationTimestamp}"], {
      namespace: ns,
    });
    const createdMs = Date.parse(created.stdout) + 500;
    const startedMs = Date.parse(report.startedAt);
    const possible = [startedMs - 1000, startedMs].map((from) => secondsToNextTick(createdMs, 15, from));
    expect(possible).toContain(report.simulation?.parameters.model.hpaFirstSyncSeconds);
  });
});

describe("mlautoscale loadtest refusing to start", () => {
  it("names a policy that is not applied, a missing broker address and a broker it cannot reach", async () => {
    const ns = await createTestNamespace("loadtest-errors");
    namespaces.push(ns);
    const queue = `${ns}-jobs`;
    const policy = example("batch-embeddings");
    for (const trigger of (policy.spec["scaling"] as { triggers: { metadata: Record<string, string> }[] })
      .triggers) {
      trigger.metadata["queueName"] = queue;
    }
    const file = write(`${ns}.yaml`, stringify(policy));
    const trace = write(`${ns}.csv`, "t,rps\n0,1\n5,1\n");

    const notApplied = await loadtest(["-f", file, "--trace", trace, "-n", ns], {
      RABBITMQ_URL: clusterAddresses().RABBITMQ_URL,
    });
    expect(notApplied.code).not.toBe(0);
    expect(notApplied.stdout).toBe("");
    expect(notApplied.stderr).toMatch(
      new RegExp(
        `^error: MLAutoscalePolicy ${ns}/batch-embeddings is not in the cluster at https://127\\.0\\.0\\.1:\\d+`,
        "m",
      ),
    );

    const noAddress = await loadtest(["-f", file, "--trace", trace, "-n", ns]);
    expect(noAddress.code).not.toBe(0);
    expect(noAddress.stderr).toMatch(
      new RegExp(
        `^error: policy batch-embeddings reads RabbitMQ queue ${queue}, and loadtest needs the broker's address`,
        "m",
      ),
    );
    expect(noAddress.stderr).toContain("--rabbitmq-url");

    // Applied, but the broker named is not there: the error names it, without the password.
    await applyObjects(ns, policy);
    const unreachable = await loadtest([
      "-f",
      file,
      "--trace",
      trace,
      "-n",
      ns,
      "--rabbitmq-url",
      "amqp://tester:hunter22@127.0.0.1:1",
    ]);
    expect(unreachable.code).not.toBe(0);
    expect(unreachable.stderr).toMatch(
      new RegExp(`^error: cannot reach RabbitMQ queue ${queue} at 127\\.0\\.0\\.1:1: connect failed`, "m"),
    );
    expect(unreachable.stderr).not.toContain("hunter22");
  });

  it("stops publishing on Ctrl-C, prints what it observed and exits 130", async () => {
    const ns = await createTestNamespace("loadtest-interrupt");
    namespaces.push(ns);
    const queue = `${ns}-jobs`;
    const policy = example("batch-embeddings");
    for (const trigger of (policy.spec["scaling"] as { triggers: { metadata: Record<string, string> }[] })
      .triggers) {
      trigger.metadata["queueName"] = queue;
    }
    // Applied without an operator: no pods, so nothing takes from the queue.
    await applyObjects(ns, policy);
    const file = write(`${ns}.yaml`, stringify(policy));
    // Ten minutes at 2 messages a second: far longer than the test waits.
    const trace = write(`${ns}.csv`, "t,rps\n0,2\n300,2\n");
    const run = startLoadtest(["-f", file, "--trace", trace, "-n", ns, "-o", "json"], {
      RABBITMQ_URL: clusterAddresses().RABBITMQ_URL,
    });
    await eventually(
      () => (run.stderr().includes("loadtest: sending 1200 arrivals over 600 s") ? true : undefined),
      "the load test to start",
      60_000,
    );
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 4_000));
    run.child.kill("SIGINT");
    const result = await run.done;
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toMatch(/^loadtest: interrupted after \d+ s: nothing more is sent$/m);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.summary.interrupted).toBe(true);
    expect(report.steps.length).toBeGreaterThan(0);
    expect(report.steps.length).toBeLessThan(600);
    expect(report.summary.published).toBe(report.steps.reduce((sum, step) => sum + step.load, 0));
    // Nothing was sent after the report's last second.
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 2_000));
    expect(await queueDepth(queue)).toBe(report.summary.published);
  });
});
