// The workload the autoscaler acts on: pods that wait for a node, load the model, then serve; and
// one FIFO queue of requests in front of them (a fluid model: requests are amounts, not objects).
import type { PodView } from "./hpa.js";

export interface WorkloadParameters {
  /** Requests per second one ready replica completes when busy. */
  serviceRatePerReplica: number;
  /** Seconds from container start to Ready (model download and load). */
  modelLoadSeconds: number;
  /** Seconds from pod creation to container start (scheduling, node provisioning, image pull). */
  schedulingDelaySeconds: number;
  /** End-to-end latency objective, seconds. */
  latencySloSeconds: number;
  /** A request still waiting after this many seconds is dropped. */
  requestTimeoutSeconds: number;
  gpusPerReplica: number;
  gpuPricePerHour: number;
  /** Memory use of a running pod as percent of its request (flat: model weights dominate). */
  memoryUtilizationPercent: number;
}

export interface Pod {
  createdAt: number;
  startedAt: number;
  readyAt: number;
}

export interface TrafficResult {
  served: number;
  dropped: number;
  /** Requests whose latency exceeded the objective, dropped ones included. */
  violations: number;
  /** Sum over served requests of their wait, for the mean. */
  waitSum: number;
  maxWait: number;
  /** Capacity (requests) the ready pods offered during the tick. */
  capacity: number;
  /** Pod-seconds Ready during the tick. */
  readySeconds: number;
  /** GPU-seconds held during the tick. */
  gpuSeconds: number;
}

export interface PodCounts {
  pending: number;
  loading: number;
  ready: number;
}

export class Workload {
  pods: Pod[] = [];
  // The queue as a ring of cohorts (arrival time, amount), oldest at `head`. Cohorts leave within
  // the request timeout, so the ring stays as small as timeout / tick.
  private ringArrival = new Float64Array(16);
  private ringAmount = new Float64Array(16);
  private head = 0;
  private size = 0;
  private queued = 0;
  private readonly viewBuffer: PodView[] = [];
  private readonly countBuffer: PodCounts = { pending: 0, loading: 0, ready: 0 };
  private readonly trafficBuffer: TrafficResult = {
    served: 0,
    dropped: 0,
    violations: 0,
    waitSum: 0,
    maxWait: 0,
    capacity: 0,
    readySeconds: 0,
    gpuSeconds: 0,
  };

  constructor(readonly params: WorkloadParameters) {}

  /** Pods that start warm (already Ready at the start of the trace). */
  seed(replicas: number, now: number): void {
    for (let index = 0; index < replicas; index++)
      this.pods.push({ createdAt: now, startedAt: now, readyAt: now });
  }

  get queueDepth(): number {
    return this.queued;
  }

  /** Pods by state at `now`. The returned object is reused by the next call. */
  counts(now: number): Readonly<PodCounts> {
    const counts = this.countBuffer;
    counts.pending = 0;
    counts.loading = 0;
    counts.ready = 0;
    for (const pod of this.pods) {
      if (now < pod.startedAt) counts.pending++;
      else if (now < pod.readyAt) counts.loading++;
      else counts.ready++;
    }
    return counts;
  }

  /** The pods as the HPA sees them at `now`. The array and its entries are reused by the next call. */
  views(now: number): readonly PodView[] {
    const views = this.viewBuffer;
    views.length = this.pods.length;
    for (let index = 0; index < this.pods.length; index++) {
      const pod = this.pods[index];
      if (!pod) continue;
      const view = (views[index] ??= { phase: "Pending", ready: false, startedAt: 0, readyTransitionAt: 0 });
      const ready = now >= pod.readyAt;
      view.phase = now < pod.startedAt ? "Pending" : "Running";
      view.ready = ready;
      view.startedAt = pod.startedAt;
      view.readyTransitionAt = ready ? pod.readyAt : pod.startedAt;
    }
    return views;
  }

  /**
   * The Deployment follows spec.replicas. Removing pods follows the ReplicaSet controller's order:
   * unscheduled before scheduled, not ready before ready, then the most recently ready first.
   */
  scaleTo(replicas: number, now: number): void {
    const { params } = this;
    while (this.pods.length < replicas) {
      const startedAt = now + params.schedulingDelaySeconds;
      this.pods.push({ createdAt: now, startedAt, readyAt: startedAt + params.modelLoadSeconds });
    }
    if (this.pods.length > replicas) {
      const rank = (pod: Pod): number => (now < pod.startedAt ? 0 : now < pod.readyAt ? 1 : 2);
      this.pods.sort((a, b) => rank(a) - rank(b) || b.readyAt - a.readyAt || b.createdAt - a.createdAt);
      this.pods.splice(0, this.pods.length - replicas);
    }
  }

  private growRing(): void {
    const slots = this.ringArrival.length;
    const arrival = new Float64Array(slots * 2);
    const amount = new Float64Array(slots * 2);
    for (let index = 0; index < this.size; index++) {
      arrival[index] = this.ringArrival[(this.head + index) % slots] ?? 0;
      amount[index] = this.ringAmount[(this.head + index) % slots] ?? 0;
    }
    this.ringArrival = arrival;
    this.ringAmount = amount;
    this.head = 0;
  }

  /**
   * Runs the queue over [now, now + dt): drops requests past the timeout, adds this tick's arrivals
   * (taken to arrive at mid-tick), and serves FIFO with the capacity of the ready pods. The returned
   * object is reused by the next call.
   */
  serve(now: number, dt: number, arrivals: number): Readonly<TrafficResult> {
    const { params } = this;
    const serviceTime = 1 / params.serviceRatePerReplica;
    if (arrivals > 0 && this.size === this.ringArrival.length) this.growRing();
    const arrivalsAt = this.ringArrival;
    const amounts = this.ringAmount;
    const slots = arrivalsAt.length;
    let head = this.head;
    let size = this.size;
    let queued = this.queued;
    let served = 0;
    let dropped = 0;
    let violations = 0;
    let waitSum = 0;
    let maxWait = 0;
    const deadline = now - params.requestTimeoutSeconds;
    while (size > 0 && (arrivalsAt[head] ?? 0) < deadline) {
      const amount = amounts[head] ?? 0;
      dropped += amount;
      violations += amount;
      queued -= amount;
      head = (head + 1) % slots;
      size--;
    }
    if (arrivals > 0) {
      const tail = (head + size) % slots;
      arrivalsAt[tail] = now + dt / 2;
      amounts[tail] = arrivals;
      size++;
      queued += arrivals;
    }
    // One pass over the pods for both the serving capacity and the GPU time of the tick.
    const end = now + dt;
    let readySeconds = 0;
    let startedSeconds = 0;
    for (const pod of this.pods) {
      readySeconds += Math.max(0, end - Math.max(now, pod.readyAt));
      startedSeconds += Math.max(0, end - Math.max(now, pod.startedAt));
    }
    const capacity = readySeconds * params.serviceRatePerReplica;
    let remaining = capacity;
    while (remaining > 1e-12 && size > 0) {
      const arrival = arrivalsAt[head] ?? now;
      const amount = amounts[head] ?? 0;
      const take = Math.min(amount, remaining);
      // Served at the point of the tick where the capacity used so far reaches this cohort.
      const servedAt = now + (dt * (capacity - remaining + take / 2)) / capacity;
      const wait = Math.max(0, servedAt - arrival);
      served += take;
      waitSum += wait * take;
      if (wait > maxWait) maxWait = wait;
      if (wait + serviceTime > params.latencySloSeconds) violations += take;
      remaining -= take;
      queued -= take;
      if (take >= amount - 1e-12) {
        head = (head + 1) % slots;
        size--;
      } else amounts[head] = amount - take;
    }
    this.queued = size === 0 || queued < 1e-9 ? 0 : queued;
    this.head = head;
    this.size = size;
    const result = this.trafficBuffer;
    result.served = served;
    result.dropped = dropped;
    result.violations = violations;
    result.waitSum = waitSum;
    result.maxWait = maxWait;
    result.capacity = capacity;
    result.readySeconds = readySeconds;
    result.gpuSeconds = startedSeconds * params.gpusPerReplica;
    return result;
  }
}
