// The operator benchmark's own arithmetic: request counting, readiness and /proc parsing.
import { describe, expect, it } from "vitest";
import { ConditionClock } from "../../../bench/operator/condition-clock.js";
import {
  cpuSecondsOfTrees,
  parseProcStatCpuSeconds,
  parseProcStatus,
} from "../../../bench/operator/process-memory.js";
import {
  currentTrueCondition,
  percentile,
  progressOf,
  secondsToReady,
  type ListedPolicy,
} from "../../../bench/operator/readiness.js";
import {
  classifyRequest,
  parseApiServerRequestTotals,
  parseOperatorRequestTotals,
  parseReconcileTotal,
  subtractCounts,
  writesOnly,
} from "../../../bench/operator/request-counts.js";
import { cpuSpent, MACHINE_CPU } from "../../../bench/operator/machine-cpu.js";
import { RolloutClock, type WatchedScaledObject } from "../../../bench/operator/rollout-clock.js";

describe("parseApiServerRequestTotals", () => {
  it("sums over codes per verb and resource, qualifying group and subresource", () => {
    const text = [
      "# HELP apiserver_request_total [STABLE] Counter of apiserver requests",
      "# TYPE apiserver_request_total counter",
      'apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="APPLY",version="v1"} 7',
      'apiserver_request_total{code="409",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="APPLY",version="v1"} 2',
      'apiserver_request_total{code="200",component="apiserver",dry_run="",group="autoscaling",resource="horizontalpodautoscalers",scope="resource",subresource="status",verb="PUT",version="v2"} 3',
      'apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="events",scope="resource",subresource="",verb="POST",version="v1"} 4',
      'apiserver_request_duration_seconds_count{group="",resource="events",verb="POST"} 99',
    ].join("\n");
    const counts = parseApiServerRequestTotals(text);
    expect(Object.fromEntries(counts)).toEqual({
      "APPLY deployments.apps": 9,
      "PUT horizontalpodautoscalers.autoscaling/status": 3,
      "POST events": 4,
    });
  });
});

describe("parseOperatorRequestTotals", () => {
  it("sums the operator's own counter over codes per verb and resource", () => {
    const text = [
      "# HELP mlautoscale_api_requests_total Requests to the Kubernetes API",
      "# TYPE mlautoscale_api_requests_total counter",
      'mlautoscale_api_requests_total{verb="POST",resource="horizontalpodautoscalers.autoscaling",code="201"} 1000',
      'mlautoscale_api_requests_total{verb="POST",resource="horizontalpodautoscalers.autoscaling",code="409"} 7',
      'mlautoscale_api_requests_total{verb="APPLY",resource="mlautoscalepolicies.mlautoscale.io/status",code="200"} 3',
      'controller_runtime_reconcile_total{controller="mlautoscalepolicy",result="success"} 9',
    ].join("\n");
    expect(Object.fromEntries(parseOperatorRequestTotals(text))).toEqual({
      "POST horizontalpodautoscalers.autoscaling": 1007,
      "APPLY mlautoscalepolicies.mlautoscale.io/status": 3,
    });
  });
});

describe("parseReconcileTotal", () => {
  it("sums the operator's reconciles over every controller and result, and nothing else", () => {
    const text = [
      "# TYPE controller_runtime_reconcile_total counter",
      'controller_runtime_reconcile_total{controller="mlautoscalepolicy",result="success"} 2900',
      'controller_runtime_reconcile_total{controller="mlautoscalepolicy",result="requeue_after"} 12',
      'controller_runtime_reconcile_total{controller="mlautoscalepolicy",result="error"} 3',
      'controller_runtime_reconcile_errors_total{controller="mlautoscalepolicy"} 3',
      'mlautoscale_api_requests_total{verb="POST",resource="events",code="201"} 40',
    ].join("\n");
    expect(parseReconcileTotal(text)).toBe(2915);
  });
});

describe("subtractCounts and writesOnly", () => {
  it("keeps the non-zero differences, and only the verbs that write", () => {
    const before = new Map([
      ["PUT leases.coordination.k8s.io", 10],
      ["LIST pods", 5],
      ["PATCH events", 3],
    ]);
    const after = new Map([
      ["PUT leases.coordination.k8s.io", 25],
      ["LIST pods", 9],
      ["PATCH events", 3],
      ["POST events", 2],
    ]);
    const difference = subtractCounts(after, before);
    expect(Object.fromEntries(difference)).toEqual({
      "PUT leases.coordination.k8s.io": 15,
      "LIST pods": 4,
      "POST events": 2,
    });
    expect(Object.fromEntries(writesOnly(difference))).toEqual({
      "PUT leases.coordination.k8s.io": 15,
      "POST events": 2,
    });
  });
});

describe("classifyRequest", () => {
  it("names requests as kube-apiserver's metrics do", () => {
    const apply = "application/apply-patch+yaml";
    expect(
      classifyRequest("PATCH", "/apis/apps/v1/namespaces/a/deployments/x?fieldManager=m", apply),
    ).toEqual({
      verb: "APPLY",
      resource: "deployments.apps",
    });
    expect(
      classifyRequest(
        "PATCH",
        "/apis/mlautoscale.io/v1alpha1/namespaces/a/mlautoscalepolicies/x/status",
        apply,
      ),
    ).toEqual({ verb: "APPLY", resource: "mlautoscalepolicies.mlautoscale.io/status" });
    expect(
      classifyRequest(
        "PATCH",
        "/apis/apps/v1/namespaces/a/deployments/x/scale",
        "application/merge-patch+json",
      ),
    ).toEqual({
      verb: "PATCH",
      resource: "deployments.apps/scale",
    });
    expect(
      classifyRequest("GET", "/apis/apps/v1/deployments?watch=true&resourceVersion=5", undefined),
    ).toEqual({
      verb: "WATCH",
      resource: "deployments.apps",
    });
    expect(classifyRequest("GET", "/api/v1/namespaces/a/events", undefined)).toEqual({
      verb: "LIST",
      resource: "events",
    });
    expect(classifyRequest("GET", "/api/v1/namespaces/a", undefined)).toEqual({
      verb: "GET",
      resource: "namespaces",
    });
    expect(
      classifyRequest("PUT", "/apis/coordination.k8s.io/v1/namespaces/default/leases/op", "application/json"),
    ).toEqual({
      verb: "PUT",
      resource: "leases.coordination.k8s.io",
    });
    expect(classifyRequest("DELETE", "/api/v1/namespaces/a/pods", undefined)).toEqual({
      verb: "DELETECOLLECTION",
      resource: "pods",
    });
    expect(classifyRequest("GET", "/apis/keda.sh/v1alpha1", undefined)).toBeUndefined();
    expect(classifyRequest("GET", "/version", undefined)).toBeUndefined();
  });
});

function policy(
  generation: number,
  observedGeneration: number,
  conditions: { type: string; status: string; observedGeneration: number; lastTransitionTime?: string }[],
): ListedPolicy {
  return {
    metadata: { name: "p", namespace: "n", generation, creationTimestamp: "2026-01-01T00:00:00Z" },
    status: { observedGeneration, conditions },
  };
}

describe("readiness", () => {
  const readyAt = (time: string, generation = 1): ListedPolicy =>
    policy(generation, generation, [
      { type: "Reconciled", status: "True", observedGeneration: generation },
      { type: "Ready", status: "True", observedGeneration: generation, lastTransitionTime: time },
    ]);

  it("counts a condition only when True for the current generation", () => {
    const stale = policy(2, 1, [
      { type: "Reconciled", status: "True", observedGeneration: 1 },
      { type: "Ready", status: "True", observedGeneration: 1 },
    ]);
    const reconciledOnly = policy(1, 1, [
      { type: "Reconciled", status: "True", observedGeneration: 1 },
      { type: "Ready", status: "False", observedGeneration: 1 },
    ]);
    expect(currentTrueCondition(stale, "Ready")).toBeUndefined();
    expect(progressOf([stale, reconciledOnly, readyAt("2026-01-01T00:00:04Z")])).toEqual({
      total: 3,
      reconciled: 2,
      ready: 1,
    });
  });

  it("measures creation to Ready per policy and takes nearest-rank percentiles", () => {
    const policies = ["00:00:04", "00:00:02", "00:00:10", "00:00:06"].map((t) => readyAt(`2026-01-01T${t}Z`));
    const times = secondsToReady(policies);
    expect(times).toEqual([4, 2, 10, 6]);
    expect(percentile(times, 50)).toBe(4);
    expect(percentile(times, 90)).toBe(10);
    expect(percentile(times, 100)).toBe(10);
    expect(percentile([], 50)).toBeNaN();
  });
});

describe("/proc parsing", () => {
  it("reads VmRSS and VmHWM in MiB", () => {
    const status = "Name:\tnode\nVmPeak:\t 1000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t11\n";
    expect(parseProcStatus(status)).toEqual({ rssMiB: 100, peakRssMiB: 200 });
  });

  it("adds user and system time from a stat line whose command name holds spaces and parentheses", () => {
    const stat = "4242 (node (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 1000 0 0";
    expect(parseProcStatCpuSeconds(stat)).toBe(3);
  });

  it("adds up a process and every process below it, with its waited-for children's time", () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
    const stat = (pid: number, ppid: number, ticks: [number, number, number, number]): string =>
      `${pid} (p ${pid}) S ${ppid} 1 1 0 -1 0 0 0 0 0 ${ticks.join(" ")} 20 0 1 0`;
    const lines = new Map([
      [10, stat(10, 1, [100, 0, 50, 50])], // a start script, with 2 s of exited children
      [11, stat(11, 10, [300, 100, 0, 0])], // the program it started
      [12, stat(12, 11, [100, 0, 0, 0])], // and a helper below that
      [20, stat(20, 1, [700, 0, 0, 0])], // another component
    ]);
    const cpu = cpuSecondsOfTrees(
      new Map([
        ["broker", 10],
        ["apiserver", 20],
        ["gone", 99],
      ]),
      lines,
    );
    expect(Object.fromEntries(cpu)).toEqual({ broker: 7, apiserver: 7, gone: 0 });
  });
});

describe("ConditionClock", () => {
  const named = (name: string, reconciled: string, ready: string, generation = 1): ListedPolicy => ({
    metadata: { name, namespace: "n", generation },
    status: {
      observedGeneration: generation,
      conditions: [
        { type: "Reconciled", status: reconciled, observedGeneration: generation },
        { type: "Ready", status: ready, observedGeneration: generation },
      ],
    },
  });

  it("keeps the first moment each policy showed a condition, and the moment the n-th did", () => {
    const clock = new ConditionClock();
    clock.observe(named("a", "False", "False"), 100);
    expect(clock.counts()).toEqual({ reconciled: 0, ready: 0 });
    clock.observe(named("a", "True", "False"), 200);
    clock.observe(named("b", "True", "False"), 150);
    // A later event of a policy already Reconciled does not move its moment.
    clock.observe(named("a", "True", "True"), 900);
    expect(clock.counts()).toEqual({ reconciled: 2, ready: 1 });
    expect(clock.reconciledBy(1)).toBe(150);
    expect(clock.reconciledBy(2)).toBe(200);
    expect(clock.reconciledBy(3)).toBeUndefined();
    expect(clock.readyBy(1)).toBe(900);
  });

  it("does not count a condition left from an older generation", () => {
    const clock = new ConditionClock();
    const stale: ListedPolicy = {
      metadata: { name: "a", namespace: "n", generation: 2 },
      status: {
        observedGeneration: 1,
        conditions: [{ type: "Reconciled", status: "True", observedGeneration: 1 }],
      },
    };
    expect(clock.observe(stale, 100)).toEqual({ reconciled: 0, ready: 0 });
    expect(clock.observe(named("a", "True", "False", 2), 300)).toEqual({ reconciled: 1, ready: 0 });
    expect(clock.reconciledBy(1)).toBe(300);
  });
});

describe("RolloutClock", () => {
  const scaledObject = (name: string, ready: boolean, hpaName?: string): WatchedScaledObject => ({
    metadata: { name },
    status: {
      ...(hpaName !== undefined && { hpaName }),
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
    },
  });

  it("keeps the first moment each ScaledObject existed and was Ready, and when the n-th was", () => {
    const clock = new RolloutClock();
    clock.scaledObject(scaledObject("a", false), 100);
    clock.scaledObject(scaledObject("b", false), 150);
    clock.scaledObject(scaledObject("a", true), 300);
    clock.scaledObject(scaledObject("a", true), 900);
    clock.scaledObject(scaledObject("b", true), 500);
    expect(clock.counts()).toMatchObject({ scaledObjects: 2, scaledObjectsReady: 2 });
    expect(clock.reachedBy("scaledObjects", 2)).toBe(150);
    expect(clock.reachedBy("scaledObjectsReady", 1)).toBe(300);
    expect(clock.reachedBy("scaledObjectsReady", 2)).toBe(500);
    expect(clock.reachedBy("scaledObjectsReady", 3)).toBeUndefined();
    expect(clock.times("scaledObjectsReady").get("a")).toBe(300);
  });

  it("counts a ScaledObject's HPA once the HPA its status names has been seen, in either order", () => {
    const clock = new RolloutClock();
    clock.scaledObject(scaledObject("a", false, "keda-hpa-a"), 100);
    clock.hpa("keda-hpa-b", 150);
    expect(clock.counts().hpas).toBe(0);
    clock.hpa("keda-hpa-a", 200);
    clock.scaledObject(scaledObject("b", true, "keda-hpa-b"), 400);
    expect(clock.counts().hpas).toBe(2);
    expect(clock.times("hpas").get("a")).toBe(200);
    expect(clock.times("hpas").get("b")).toBe(400);
    clock.hpa("unrelated", 500);
    expect(clock.counts().hpas).toBe(2);
  });

  it("counts a Deployment once it has an available replica, and a policy's conditions for its generation", () => {
    const clock = new RolloutClock();
    clock.deployment({ metadata: { name: "a" }, status: {} }, 100);
    clock.deployment({ metadata: { name: "a" }, status: { availableReplicas: 1 } }, 200);
    const policy = (generation: number, observed: number, types: string[]): ListedPolicy => ({
      metadata: { name: "p", generation },
      status: {
        observedGeneration: observed,
        conditions: types.map((type) => ({ type, status: "True", observedGeneration: observed })),
      },
    });
    clock.policy(policy(2, 1, ["Reconciled", "Ready", "ScalingActive"]), 250);
    clock.policy(policy(2, 2, ["Reconciled"]), 300);
    clock.policy(policy(2, 2, ["Reconciled", "Ready", "ScalingActive"]), 400);
    expect(clock.counts()).toEqual({
      scaledObjects: 0,
      scaledObjectsReady: 0,
      hpas: 0,
      deploymentsAvailable: 1,
      policiesReconciled: 1,
      policiesReady: 1,
      policiesScalingActive: 1,
    });
    expect(clock.reachedBy("deploymentsAvailable", 1)).toBe(200);
    expect(clock.reachedBy("policiesReconciled", 1)).toBe(300);
    expect(clock.reachedBy("policiesReady", 1)).toBe(400);
  });
});

describe("cpuSpent", () => {
  it("gives each process's CPU between two readings, most first, then their sum and the machine's", () => {
    const before = {
      processes: new Map([
        ["kube-apiserver", 100],
        ["etcd", 10],
      ]),
      machineBusySeconds: 1_000,
    };
    const after = {
      processes: new Map([
        ["kube-apiserver", 130.04],
        ["etcd", 15],
        ["mlautoscale operator", 12.5],
      ]),
      machineBusySeconds: 1_050,
    };
    const spent = cpuSpent(before, after);
    expect(Object.keys(spent)).toEqual([
      "kube-apiserver",
      "mlautoscale operator",
      "etcd",
      "total",
      MACHINE_CPU,
    ]);
    expect(spent).toEqual({
      "kube-apiserver": 30,
      "mlautoscale operator": 12.5,
      etcd: 5,
      total: 47.5,
      [MACHINE_CPU]: 50,
    });
  });
});
