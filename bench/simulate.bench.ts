// 100 policies over a 24 h trace at 15-second resolution: how long the whole batch takes and how much
// memory its results hold. Run: npx tsx bench/simulate.bench.ts
import type { V1Deployment, V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { simulate, type SimulationResult, type SimulationTarget } from "../src/simulate/simulate.js";
import type { Trace, TracePoint } from "../src/simulate/trace.js";

const DAY_SECONDS = 24 * 3600;
const STEP_SECONDS = 15;
const POLICIES = 100;

function diurnalTrace(): Trace {
  const points: TracePoint[] = [];
  for (let t = 0; t < DAY_SECONDS; t += STEP_SECONDS) {
    const hour = t / 3600;
    const daylight = hour >= 6 && hour <= 22 ? Math.sin((Math.PI * (hour - 6)) / 16) : 0;
    // A deterministic ripple so that controllers see noise, not a smooth curve.
    const ripple = 1 + 0.1 * Math.sin(t / 97) * Math.cos(t / 41);
    points.push({ t, rps: (2 + 198 * daylight ** 1.5) * ripple });
  }
  return { points, end: DAY_SECONDS };
}

const deployment: V1Deployment = {
  spec: {
    selector: {},
    template: {
      spec: {
        containers: [
          { name: "model", resources: { requests: { cpu: "2", memory: "8Gi", "nvidia.com/gpu": "1" } } },
        ],
      },
    },
  },
};

function policy(index: number): SimulationTarget {
  const max = 10 + (index % 5) * 5;
  if (index % 2 === 0) {
    const hpa: V2HorizontalPodAutoscaler = {
      spec: {
        scaleTargetRef: { kind: "Deployment", name: `model-${index}` },
        minReplicas: 1 + (index % 3),
        maxReplicas: max,
        metrics: [
          {
            type: "Resource",
            resource: {
              name: "cpu",
              target: { type: "Utilization", averageUtilization: 50 + (index % 4) * 10 },
            },
          },
          {
            type: "Pods",
            pods: {
              metric: { name: "inference_queue_depth" },
              target: { type: "AverageValue", averageValue: String(5 + (index % 7)) },
            },
          },
        ],
        behavior:
          index % 4 === 0
            ? undefined
            : {
                scaleUp: { stabilizationWindowSeconds: (index % 3) * 30 },
                scaleDown: {
                  stabilizationWindowSeconds: 120 + (index % 5) * 60,
                  policies: [{ type: "Percent", value: 50, periodSeconds: 60 }],
                },
              },
      },
    };
    return { name: `hpa-${index}`, engine: "HPA", deployment, hpa, modelLoadSeconds: 30 + (index % 6) * 30 };
  }
  return {
    name: `keda-${index}`,
    engine: "KEDA",
    deployment,
    modelLoadSeconds: 30 + (index % 6) * 30,
    scaledObject: {
      apiVersion: "keda.sh/v1alpha1",
      kind: "ScaledObject",
      metadata: { name: `keda-${index}` },
      spec: {
        scaleTargetRef: { name: `model-${index}` },
        pollingInterval: index % 3 === 0 ? 30 : 15,
        cooldownPeriod: 300,
        minReplicaCount: index % 3 === 0 ? 1 : 0,
        maxReplicaCount: max,
        fallback: { failureThreshold: 3, replicas: 4 },
        triggers: [
          {
            type: "rabbitmq",
            metadata: { mode: "QueueLength", value: String(5 + (index % 5)), activationValue: "1" },
          },
          { type: "prometheus", metadata: { query: "avg(DCGM_FI_DEV_GPU_UTIL)", threshold: "70" } },
        ],
      },
    },
  };
}

const trace = diurnalTrace();
const targets = Array.from({ length: POLICIES }, (_, index) => policy(index));

// One warm-up run of each engine so that the figures measure the simulation, not the JIT's first pass.
simulate(policy(0), trace);
simulate(policy(1), trace);
globalThis.gc?.();

const memoryBefore = process.memoryUsage();
const cpuBefore = process.cpuUsage();
const started = performance.now();
const results: SimulationResult[] = targets.map((target) => simulate(target, trace));
const elapsedMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const memoryAfter = process.memoryUsage();

const steps = results.reduce((total, result) => total + result.table.length, 0);
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
console.log(`policies:             ${POLICIES} (${POLICIES / 2} HPA, ${POLICIES / 2} KEDA)`);
console.log(`trace:                ${trace.points.length} points, 24 h at ${STEP_SECONDS} s`);
console.log(`simulated steps:      ${steps}`);
console.log(`total time:           ${elapsedMs.toFixed(0)} ms (goal: under 1000 ms)`);
// CPU time (user + system, all threads of the process, garbage collection included) is less
// sensitive than wall time to other work on the machine.
console.log(`CPU time:             ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms`);
console.log(`per policy:           ${(elapsedMs / POLICIES).toFixed(2)} ms`);
console.log(`per step:             ${((elapsedMs * 1000) / steps).toFixed(2)} µs`);
// The timelines live in typed arrays outside the JS heap; the heap figure is only indicative because
// the collector may run during the batch.
console.log(`timeline buffers:     ${mib(memoryAfter.arrayBuffers - memoryBefore.arrayBuffers)} MiB`);
console.log(`heap used after:      ${mib(memoryAfter.heapUsed)} MiB`);
console.log(`resident set size:    ${mib(process.memoryUsage().rss)} MiB`);
console.log(`scale events:         ${results.reduce((total, result) => total + result.events.length, 0)}`);
