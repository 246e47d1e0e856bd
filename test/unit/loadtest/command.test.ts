import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { apiPaths, type KubeConnection } from "../../../src/loadtest/cluster.js";
import { runLoadtestCommand, type LoadtestDependencies } from "../../../src/loadtest/command.js";
import type { EmulatorApi, LoadSink } from "../../../src/loadtest/sinks.js";
import { LoadtestError, type LoadSource } from "../../../src/loadtest/target.js";
import type { Clock, TimerHandle } from "../../../src/runtime/clock.js";
import { runSimulateCommand } from "../../../src/simulate/command.js";

const examples = new URL("../../../examples/", import.meta.url).pathname;
const batch = join(examples, "2-batch-rabbitmq.yaml");
const realtime = join(examples, "1-realtime-inference.yaml");
const scratch = mkdtempSync(join(tmpdir(), "mlautoscale-loadtest-"));

function file(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

// 30 s: 10 s idle, 10 s at 3/s, 10 s idle: 30 messages.
const trace = file("trace.csv", "t,rps\n0,0\n10,3\n20,0\n");

class JumpingClock implements Clock {
  current = Date.UTC(2026, 0, 1);
  now(): number {
    return this.current;
  }
  setTimer(delayMs: number, callback: () => void): TimerHandle {
    let cancelled = false;
    setImmediate(() => {
      if (cancelled) return;
      this.current += Math.max(0, delayMs);
      callback();
    });
    return { cancel: () => (cancelled = true) };
  }
}

interface Harness {
  deps: LoadtestDependencies;
  published: number[];
  connected: LoadSource[];
  kubeConnects: number;
  interrupt: () => void;
  closed: number;
}

/**
 * A cluster where the policy is applied and the autoscaler follows the queue at once: ceil(depth / 5)
 * replicas, at least 1, Ready a second later; a broker queue nobody consumes.
 */
function harness(
  options: {
    namespace?: string;
    policyName?: string;
    engine?: "HPA" | "KEDA";
    present?: boolean;
    env?: Record<string, string>;
    connectError?: Error;
    failPublishAt?: number;
    emulatorKnows?: boolean;
    /** The HPA's creationTimestamp; null: none. */
    hpaCreatedAt?: string | null;
  } = {},
): Harness {
  const namespace = options.namespace ?? "ml";
  const name = options.policyName ?? "batch-embeddings";
  let depth = 0;
  let ready = 1;
  const replicas = (): number => Math.min(20, Math.max(1, Math.ceil(depth / 5)));
  const h: Harness = {
    published: [],
    connected: [],
    kubeConnects: 0,
    interrupt: () => undefined,
    closed: 0,
    deps: undefined as unknown as LoadtestDependencies,
  };
  const reader = {
    get<T>(path: string): Promise<T | undefined> {
      const objects: Record<string, unknown> = {
        ...(options.present !== false && {
          [apiPaths.policy(namespace, name)]: {
            metadata: { name, namespace },
            spec: {},
            status: { engine: options.engine ?? "KEDA", children: [{ kind: "ScaledObject", name }] },
          },
        }),
        [apiPaths.scaledObject(namespace, name)]: { status: { hpaName: name } },
        [apiPaths.hpa(namespace, name)]: {
          // 3.5 s past the harness clock's minute, taken at the middle of the second: syncs and polls every
          // 15 s from there fall 3.5 s after the load's start.
          metadata:
            options.hpaCreatedAt === null
              ? {}
              : { creationTimestamp: options.hpaCreatedAt ?? "2025-12-31T23:40:03Z" },
          status: {
            desiredReplicas: replicas(),
            // KEDA held the workload at zero from the sync at 23:59:18.5: the HPA's last recommendation was
            // the sync before, 56.5 s before the load's start (56 s, four periods before the simulation's
            // first sync at 4 s).
            conditions: [
              {
                type: "ScalingActive",
                status: "False",
                reason: "ScalingDisabled",
                lastTransitionTime: "2025-12-31T23:59:18Z",
              },
            ],
          },
        },
        [apiPaths.workload(namespace, "Deployment", name)]: {
          spec: { replicas: replicas() },
          status: { readyReplicas: ready },
        },
      };
      const value = objects[path];
      if (path.includes("/deployments/")) ready = replicas();
      return Promise.resolve(value as T | undefined);
    },
  };
  const sink = (description: string): LoadSink => ({
    description,
    publish(count) {
      h.published.push(count);
      if (options.failPublishAt === h.published.length)
        return Promise.reject(new Error(`${description}: publish failed: channel closed`));
      depth += count;
      return Promise.resolve();
    },
    depth: () => Promise.resolve(depth),
    close() {
      h.closed++;
      return Promise.resolve();
    },
  });
  const emulator = (url: string, ns: string, workload: string): EmulatorApi => ({
    url,
    namespace: ns,
    name: workload,
    workload: () =>
      Promise.resolve(
        options.emulatorKnows === false
          ? undefined
          : {
              queue: depth,
              served: 0,
              readyPods: 1,
              source: { type: "http" },
              parameters: { serviceRatePerReplica: 4 },
            },
      ),
    arrive(count) {
      h.published.push(count);
      depth += count;
      return Promise.resolve();
    },
  });
  h.deps = {
    env: options.env ?? { RABBITMQ_URL: "amqp://user:pw@127.0.0.1:5672" },
    clock: new JumpingClock(),
    readFile: (path) => readFile(path, "utf8"),
    connectKube: (): KubeConnection => {
      h.kubeConnects++;
      return { reader, where: "https://127.0.0.1:6443 (context test)", contextNamespace: namespace };
    },
    connectBroker: (source) => {
      h.connected.push(source);
      if (options.connectError) return Promise.reject(options.connectError);
      return Promise.resolve(sink("RabbitMQ queue ml-inference-queue at 127.0.0.1:5672"));
    },
    emulator,
    onInterrupt: (handler) => {
      h.interrupt = handler;
      return () => (h.interrupt = () => undefined);
    },
    stderrIsTTY: false,
  };
  return h;
}

async function run(h: Harness, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runLoadtestCommand(
    argv,
    { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) },
    h.deps,
  );
  return { code, stdout, stderr };
}

interface Document {
  policy: string;
  namespace: string;
  engine: string;
  source: { kind: string; description: string };
  interrupted: boolean;
  summary: Record<string, number | boolean | null>;
  steps: {
    t: number;
    traceT: number | null;
    load: number;
    desiredReplicas: number;
    replicas: number;
    readyReplicas: number;
    queue: number;
  }[];
  simulation?: {
    policy: string;
    summary: { totalRequests: number; tickSeconds: number };
    steps: { t: number }[];
  };
  comparison?: {
    windowSeconds: number;
    notes: string[];
    peakReplicas: { observed: number; simulated: number };
  };
}

describe("mlautoscale loadtest", () => {
  it("publishes the trace's arrivals to the trigger's queue and prints one step per second", async () => {
    const h = harness();
    const { code, stdout, stderr } = await run(h, "-f", batch, "--trace", trace, "-o", "json");
    expect(stderr).not.toContain("error");
    expect(code).toBe(0);
    expect(h.connected).toEqual([
      { kind: "rabbitmq", url: "amqp://user:pw@127.0.0.1:5672", queueName: "ml-inference-queue" },
    ]);
    expect(h.closed).toBe(1);
    const document = JSON.parse(stdout) as Document;
    expect(document).toMatchObject({
      policy: "batch-embeddings",
      namespace: "ml",
      engine: "KEDA",
      source: { kind: "rabbitmq", description: "RabbitMQ queue ml-inference-queue at 127.0.0.1:5672" },
      interrupted: false,
    });
    expect(document.steps).toHaveLength(30);
    expect(document.steps.map((step) => step.load)).toEqual(
      Array.from({ length: 30 }, (_, t) => (t >= 10 && t < 20 ? 3 : 0)),
    );
    expect(document.summary).toMatchObject({
      published: 30,
      scheduled: 30,
      traceArrivals: 30,
      durationSeconds: 30,
    });
    // The queue is read after each second's messages were accepted: nobody consumes, so it is the running total.
    expect(document.steps[14]).toMatchObject({
      t: 14,
      traceT: 14,
      queue: 15,
      desiredReplicas: 3,
      replicas: 3,
    });
    expect(document.summary).toMatchObject({
      peakReplicas: 6,
      firstScaleUpSeconds: 11,
      maxQueue: 30,
      finalQueue: 30,
    });
    expect(document.simulation).toBeUndefined();
    // Progress every 10 s on stderr; never the broker's credentials.
    expect(stderr.match(/^loadtest: \d+\/30 s/gm)).toEqual([
      "loadtest: 10/30 s",
      "loadtest: 20/30 s",
      "loadtest: 30/30 s",
    ]);
    expect(stderr).toContain(
      "sending 30 arrivals over 30 s to RabbitMQ queue ml-inference-queue at 127.0.0.1:5672",
    );
    expect(stderr + stdout).not.toContain("pw@");
  });

  it("with --compare-simulation prints the simulator's document for the same load, and where they differ", async () => {
    const h = harness();
    const { code, stdout } = await run(
      h,
      "-f",
      batch,
      "--trace",
      trace,
      "-o",
      "json",
      "--compare-simulation",
      "--settle-seconds",
      "5",
      // Syncs and polls on the load's start (the next test derives them from the cluster).
      ...["--hpa-first-sync", "0", "--keda-first-poll", "0"],
    );
    expect(code).toBe(0);
    const document = JSON.parse(stdout) as Document;
    expect(document.steps).toHaveLength(35);
    expect(document.simulation?.policy).toBe("batch-embeddings");
    expect(document.simulation?.summary.totalRequests).toBe(30);
    // KEDA polls every 15 s in example 2: the simulation's tick.
    expect(document.simulation?.summary.tickSeconds).toBe(15);
    expect(document.simulation?.steps.map((step) => step.t)).toEqual([0, 15, 30]);
    expect(document.comparison?.windowSeconds).toBe(35);
    expect(document.comparison?.peakReplicas.observed).toBe(6);
    expect(document.comparison?.notes.some((note) => note.startsWith("peak replicas:"))).toBe(true);

    const table = await run(harness(), "-f", batch, "--trace", trace, "--compare-simulation");
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /^policy\s+ml\/batch-embeddings \(KEDA\): Deployment batch-embeddings, HPA batch-embeddings$/m,
    );
    expect(table.stdout).toMatch(/^\s+observed\s+simulated$/m);
    expect(table.stdout).toMatch(/^sent\s+30\s+30$/m);
    expect(table.stdout).toContain("where they differ (first 30s)");
    expect(table.stdout).toMatch(
      /^t\s+trace t\s+sent\s+queue\s+desired\s+replicas\s+ready\s+sim queue\s+sim replicas\s+sim ready$/m,
    );
  });

  it("syncs and polls in the simulation where the HPA's creation puts the cluster's, unless the flags say", async () => {
    const derived = await run(harness(), "-f", batch, "--trace", trace, "-o", "json", "--compare-simulation");
    expect(derived.code).toBe(0);
    const model = (document: string) =>
      (JSON.parse(document) as { simulation: { parameters: { model: Record<string, unknown> } } }).simulation
        .parameters.model;
    // 3.5 s rounds to 4; example 2 polls every 15 s, like the HPA's sync period.
    expect(model(derived.stdout)).toMatchObject({
      hpaFirstSyncSeconds: 4,
      kedaFirstPollSeconds: 4,
      hpaLastRecommendationSeconds: 56,
    });
    expect(derived.stderr).toContain(
      "HPA ml/batch-embeddings last recommended a scale 56 s before the load (it has had scaling disabled since)",
    );
    expect(derived.stderr).toContain(
      "the simulation syncs the HPA 4 s and polls KEDA 4 s into the load, where HPA ml/batch-embeddings's creation",
    );
    // The steps fall on the syncs and polls: every 4 s and 15 s from 0 share a 1 s tick.
    const steps = (JSON.parse(derived.stdout) as Document).simulation?.steps ?? [];
    expect(steps.slice(0, 5).map((step) => step.t)).toEqual([0, 1, 2, 3, 4]);

    const given = await run(
      harness(),
      ...["-f", batch, "--trace", trace, "-o", "json", "--compare-simulation", "--keda-first-poll", "0"],
    );
    expect(model(given.stdout)).toMatchObject({ hpaFirstSyncSeconds: 4, kedaFirstPollSeconds: 0 });
    expect(given.stderr).toMatch(/the simulation syncs the HPA 4 s into the load/);

    const both = await run(
      harness(),
      ...["-f", batch, "--trace", trace, "-o", "json", "--compare-simulation"],
      ...["--keda-first-poll", "0", "--hpa-first-sync", "0"],
    );
    expect(model(both.stdout)).toMatchObject({ hpaFirstSyncSeconds: 0, kedaFirstPollSeconds: 0 });
    expect(both.stderr).not.toContain("into the load");

    const unknown = await run(
      harness({ hpaCreatedAt: null }),
      ...["-f", batch, "--trace", trace, "-o", "json", "--compare-simulation"],
    );
    expect(unknown.code).toBe(0);
    expect(model(unknown.stdout)).toMatchObject({ hpaFirstSyncSeconds: 0, kedaFirstPollSeconds: 0 });
    expect(unknown.stderr).toContain(
      "note: cannot read when HPA ml/batch-embeddings was created: the simulation syncs and polls from the load's start",
    );
  });

  it("prints CSV with the simulation's columns, and an SVG with both series", async () => {
    const csv = await run(harness(), "-f", batch, "--trace", trace, "-o", "csv", "--compare-simulation");
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trim().split("\n");
    expect(lines[0]).toBe(
      "t,trace_t,load,desired_replicas,replicas,ready_replicas,queue,sim_desired_replicas,sim_ready_replicas,sim_queue",
    );
    expect(lines).toHaveLength(31);
    expect(lines[11]?.startsWith("10,10,3,")).toBe(true);

    const svg = await run(harness(), "-f", batch, "--trace", trace, "-o", "svg", "--compare-simulation");
    expect(svg.code).toBe(0);
    expect(svg.stdout).toMatch(/^<svg /);
    expect(svg.stdout).toContain("batch-embeddings observed (KEDA): peak 6 replicas");
    expect(svg.stdout).toContain("batch-embeddings simulated (KEDA): peak");
    expect(svg.stdout).not.toContain("observed-series");
    expect(svg.stdout.match(/stroke-dasharray="4 3"/g)).toHaveLength(2);
  });

  it("stops on Ctrl-C: no more publishing, prints what it observed, exits 130", async () => {
    const h = harness();
    const original = h.deps.connectBroker;
    h.deps.connectBroker = async (source, ns, name) => {
      const sink = await original(source, ns, name);
      return {
        ...sink,
        publish: async (count) => {
          await sink.publish(count);
          if (h.published.length === 3) h.interrupt();
        },
      };
    };
    const { code, stdout, stderr } = await run(h, "-f", batch, "--trace", trace, "-o", "json");
    expect(code).toBe(130);
    const document = JSON.parse(stdout) as Document;
    expect(document.interrupted).toBe(true);
    expect(h.published).toEqual([3, 3, 3]);
    expect(document.steps).toHaveLength(13);
    expect(document.summary["published"]).toBe(9);
    expect(stderr).toContain("interrupted after 13 s");
    expect(h.closed).toBe(1);
  });

  it("prints what it observed and an error when a publish fails mid-run", async () => {
    const h = harness({ failPublishAt: 2 });
    const { code, stdout, stderr } = await run(h, "-f", batch, "--trace", trace);
    expect(code).toBe(1);
    expect(stdout).toContain(
      "stopped    RabbitMQ queue ml-inference-queue at 127.0.0.1:5672: publish failed: channel closed",
    );
    expect(stderr).toMatch(
      /^error: RabbitMQ queue ml-inference-queue at 127.0.0.1:5672: publish failed: channel closed \(publishing the 3 arrivals of second 11/m,
    );
  });

  it("compresses time with --time-scale and says that each second carries more of the trace", async () => {
    const h = harness();
    const { code, stdout, stderr } = await run(
      h,
      "-f",
      batch,
      "--trace",
      trace,
      "-o",
      "json",
      "--time-scale",
      "5",
    );
    expect(code).toBe(0);
    const document = JSON.parse(stdout) as Document;
    expect(document.steps.map((step) => [step.traceT, step.load])).toEqual([
      [0, 0],
      [5, 0],
      [10, 15],
      [15, 15],
      [20, 0],
      [25, 0],
    ]);
    expect(stderr).toContain(
      "time scale 5: each second sends 5 s of the trace's arrivals (5 times its rate)",
    );
  });

  it("sends HTTP-style load to the emulator, whose service rate the simulation takes", async () => {
    const h = harness({
      policyName: "resnet50-inference",
      engine: "HPA",
      env: { EMULATOR_URL: "http://127.0.0.1:9000" },
    });
    const { code, stdout, stderr } = await run(
      h,
      "-f",
      realtime,
      "--trace",
      trace,
      "-o",
      "json",
      "--compare-simulation",
    );
    expect(stderr).not.toContain("error");
    expect(code).toBe(0);
    const document = JSON.parse(stdout) as Document & {
      simulation: { parameters: { serviceRatePerReplica: number } };
    };
    expect(document.source).toEqual({
      kind: "http",
      description: "HTTP requests to the workload emulator at http://127.0.0.1:9000 (ml/resnet50-inference)",
    });
    expect(h.published.reduce((a, b) => a + b, 0)).toBe(30);
    expect(document.simulation.parameters.serviceRatePerReplica).toBe(4);
    expect(document.engine).toBe("HPA");
  });
});

describe("mlautoscale loadtest refusing to start", () => {
  it("names a policy that is not in the cluster", async () => {
    const h = harness({ present: false });
    const { code, stdout, stderr } = await run(h, "-f", batch, "--trace", trace, "-n", "staging");
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      "error: MLAutoscalePolicy staging/batch-embeddings is not in the cluster at https://127.0.0.1:6443 (context test): " +
        `apply it first (kubectl apply -n staging -f ${batch}), or name its namespace with -n\n`,
    );
    expect(h.connected).toEqual([]);
  });

  it("says that the broker's address is missing, before reaching the cluster", async () => {
    const h = harness({ env: {} });
    const { code, stderr } = await run(h, "-f", batch, "--trace", trace);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /^error: policy batch-embeddings reads RabbitMQ queue ml-inference-queue, and loadtest needs the broker's address/,
    );
    expect(h.kubeConnects).toBe(0);
  });

  it("says which broker it cannot reach", async () => {
    const h = harness({
      connectError: new LoadtestError(
        "cannot reach RabbitMQ queue ml-inference-queue at 127.0.0.1:1: connect failed: connect ECONNREFUSED 127.0.0.1:1",
      ),
    });
    const { code, stderr } = await run(
      h,
      "-f",
      batch,
      "--trace",
      trace,
      "--rabbitmq-url",
      "amqp://u:secret@127.0.0.1:1",
    );
    expect(code).toBe(1);
    expect(stderr).toBe(
      "error: cannot reach RabbitMQ queue ml-inference-queue at 127.0.0.1:1: connect failed: connect ECONNREFUSED 127.0.0.1:1\n",
    );
  });

  it("reports a bad trace in the simulator's words", async () => {
    const bad = file("bad.csv", "t,rps\n0,5\n0,7\n");
    const h = harness();
    const { code, stderr } = await run(h, "-f", batch, "--trace", bad);
    const simulated = await (async () => {
      let text = "";
      await runSimulateCommand(["-f", batch, "--trace", bad], {
        stdout: () => undefined,
        stderr: (t) => (text += t),
      });
      return text;
    })();
    expect(code).toBe(1);
    expect(stderr).toBe(`error: ${bad}: line 3: time 0 is not after the previous time 0\n`);
    expect(stderr).toBe(simulated);
    expect(h.kubeConnects).toBe(0);
  });

  it("asks for --policy when the file holds several, and for the emulator for HTTP load", async () => {
    const both = file("both.yaml", `${readFileSync(batch, "utf8")}\n---\n${readFileSync(realtime, "utf8")}`);
    const several = await run(harness(), "-f", both, "--trace", trace);
    expect(several.code).toBe(1);
    expect(several.stderr).toBe(
      `error: ${both} holds 2 policies (batch-embeddings, resnet50-inference); a load test runs one: pick it with --policy NAME\n`,
    );
    const http = await run(
      harness({ env: {} }),
      "-f",
      both,
      "--policy",
      "resnet50-inference",
      "--trace",
      trace,
    );
    expect(http.code).toBe(1);
    expect(http.stderr).toMatch(/workload emulator: pass --emulator-url or set EMULATOR_URL/);
    const unknown = await run(
      harness({ policyName: "resnet50-inference", env: { EMULATOR_URL: "http://e" }, emulatorKnows: false }),
      "-f",
      realtime,
      "--trace",
      trace,
    );
    expect(unknown.stderr).toMatch(
      /^error: the workload emulator at http:\/\/e does not emulate ml\/resnet50-inference/,
    );
  });

  it("exits 2 on bad flags, with the usage", async () => {
    for (const argv of [
      ["--trace", trace],
      ["-f", batch],
      ["-f", batch, "--trace", trace, "-o", "yaml"],
      ["-f", batch, "--trace", trace, "--time-scale", "0"],
      ["-f", batch, "--trace", trace, "--settle-seconds", "1.5"],
      ["-f", batch, "--trace", trace, "--source", "nats"],
      ["-f", batch, "--trace", trace, "--bogus"],
    ]) {
      const { code, stderr } = await run(harness(), ...argv);
      expect(code, argv.join(" ")).toBe(2);
      expect(stderr).toMatch(/^error: .*\n\nUsage: mlautoscale loadtest/);
    }
    const help = await run(harness(), "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: mlautoscale loadtest/);
  });
});
