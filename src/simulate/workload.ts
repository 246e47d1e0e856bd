// The workload the autoscaler acts on: pods that wait for a node, load the model, then serve, and
// drain for their termination grace period when removed; and one FIFO queue of requests in front of
// them (a fluid model: requests are amounts, not objects).
import type { NodePool } from "./capacity.js";
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
  /** Seconds a removed pod keeps its GPUs while it drains (its terminationGracePeriodSeconds). */
  terminationSeconds?: number;
  /** Requests of one replica, milli-units by resource name, as the HPA reads them from its pods. */
  requestsMilli?: Readonly<Partial<Record<string, number>>>;
}

export interface Pod {
  /** The pod's name, for the HPA's per-pod samples; made up when left out. */
  name?: string;
  createdAt: number;
  /** When its containers start: Infinity while it waits for a node. */
  startedAt: number;
  readyAt: number;
  /**
   * When it was deleted (Infinity or left out: it is not): it serves nothing from then on, and
   * drains until goneAt.
   */
  deletedAt?: number;
  /** When it is gone and its GPUs are free (Infinity or left out: not deleted). */
  goneAt?: number;
  /** The node it is bound to (NodePool); -1 while Pending, or when nodes are not modelled. */
  node?: number;
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
  /** Deleted pods still draining, holding their GPUs. */
  terminating: number;
}

function newPod(name: string, createdAt: number, startedAt: number, readyAt: number, node: number): Pod {
  return { name, createdAt, startedAt, readyAt, deletedAt: Infinity, goneAt: Infinity, node };
}

function isDeleted(pod: Pod, now: number): boolean {
  return (pod.deletedAt ?? Infinity) <= now;
}

/**
 * How long something computed from the pods at one time stays true: until the first time after it
 * at which a pod changes state (starts, becomes Ready, is deleted, is gone), as long as no pod is
 * created, bound or dropped meanwhile (the workload's revision). Most ticks change no pod: counts,
 * views and the tick's capacity are then those of the tick before.
 */
class PodStates {
  private revision = -1;
  private from = 0;
  private until = -Infinity;
  /** The first change of state after the pass in progress, of the pods noticed so far. */
  private next = Infinity;

  /** The pods are in the states they were in at `from`, at time `t`. */
  holdAt(revision: number, t: number): boolean {
    return revision === this.revision && t >= this.from && t < this.until;
  }

  /** No pod changes state within [start, end). */
  holdOver(revision: number, start: number, end: number): boolean {
    return revision === this.revision && start >= this.from && end <= this.until;
  }

  /** A pass over the pods begins. */
  begin(): void {
    this.next = Infinity;
  }

  /** Notes the times at which the pod changes state after `now`. */
  notice(pod: Pod, now: number): void {
    const deletedAt = pod.deletedAt ?? Infinity;
    const goneAt = pod.goneAt ?? Infinity;
    if (pod.startedAt > now && pod.startedAt < this.next) this.next = pod.startedAt;
    if (pod.readyAt > now && pod.readyAt < this.next) this.next = pod.readyAt;
    if (deletedAt > now && deletedAt < this.next) this.next = deletedAt;
    if (goneAt > now && goneAt < this.next) this.next = goneAt;
  }

  /**
   * The pass at `now` is over: what it computed holds until the first change it noticed, provided
   * that comes no earlier than `end`. Returns whether it was recorded.
   */
  end(revision: number, now: number, end = now): boolean {
    if (this.next < end) return false;
    this.revision = revision;
    this.from = now;
    this.until = this.next;
    return true;
  }
}

export class Workload {
  // Private so that every change goes through a method that bumps `revision`: the pod counts, views
  // and serving capacity are kept until the revision changes, and a list swapped in from outside
  // would go unnoticed.
  private podList: Pod[] = [];
  // The queue as a ring of cohorts (arrival time, amount), oldest at `head`. Cohorts leave within
  // the request timeout, so the ring stays as small as timeout / tick.
  private ringArrival = new Float64Array(16);
  private ringAmount = new Float64Array(16);
  private head = 0;
  private size = 0;
  private queued = 0;
  private readonly viewBuffer: PodView[] = [];
  /** The pod each view was last written for. */
  private readonly viewPods: Pod[] = [];
  private readonly countBuffer: PodCounts = { pending: 0, loading: 0, ready: 0, terminating: 0 };
  /** Bumped whenever a pod is created, bound, deleted or dropped. */
  private revision = 0;
  private readonly countedStates = new PodStates();
  private readonly viewedStates = new PodStates();
  /** The pods that served, and held their GPUs, for all of the last tick that recomputed them. */
  private readonly servingStates = new PodStates();
  private servingPods = 0;
  private holdingPods = 0;
  private podSequence = 0;
  /** The earliest goneAt of the pods deleted and not yet dropped: reap has nothing to do before. */
  private nextGoneAt = Infinity;
  /** Where pods find GPUs; unlimited unless set. */
  nodes: NodePool | undefined;
  /** Pods created and not yet bound to a node, oldest first. */
  private readonly unbound: Pod[] = [];
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

  /** The pods, in creation order. */
  get pods(): readonly Pod[] {
    return this.podList;
  }

  /**
   * Puts these pods in place of the workload's own, for a caller that follows pods kept elsewhere (the
   * workload emulator's, from the API server).
   */
  replacePods(pods: Pod[]): void {
    this.podList = pods;
    this.unbound.length = 0;
    // Unknown until the next reap, which passes over the pods and works it out.
    this.nextGoneAt = -Infinity;
    this.revision++;
  }

  private nextName(): string {
    return `pod-${this.podSequence++}`;
  }

  /**
   * Pods that run at the start of the trace, Ready for long enough that no controller treats them as
   * new (the CPU initialization period, metrics-server's first windows).
   */
  seed(replicas: number, now: number): void {
    this.revision++;
    for (let index = 0; index < replicas; index++) {
      this.podList.push(newPod(this.nextName(), now, -Infinity, -Infinity, 0));
    }
  }

  get queueDepth(): number {
    return this.queued;
  }

  /** Pods by state at `now`. The returned object is reused by the next call. */
  counts(now: number): Readonly<PodCounts> {
    const counts = this.countBuffer;
    if (this.countedStates.holdAt(this.revision, now)) return counts;
    counts.pending = 0;
    counts.loading = 0;
    counts.ready = 0;
    counts.terminating = 0;
    const states = this.countedStates;
    states.begin();
    for (const pod of this.podList) {
      if (isDeleted(pod, now)) counts.terminating++;
      else if (now < pod.startedAt) counts.pending++;
      else if (now < pod.readyAt) counts.loading++;
      else counts.ready++;
      states.notice(pod, now);
    }
    states.end(this.revision, now);
    return counts;
  }

  /**
   * The pods as the HPA's pod lister sees them at `now`, terminating ones included (the HPA ignores
   * them). The array and its entries are reused by the next call.
   */
  views(now: number): readonly PodView[] {
    const views = this.viewBuffer;
    const viewPods = this.viewPods;
    const requests = this.params.requestsMilli;
    if (this.viewedStates.holdAt(this.revision, now)) return views;
    if (views.length !== this.podList.length) {
      views.length = this.podList.length;
      viewPods.length = this.podList.length;
    }
    const states = this.viewedStates;
    states.begin();
    for (let index = 0; index < this.podList.length; index++) {
      const pod = this.podList[index];
      if (!pod) continue;
      // A new view starts as a new pod's: Pending, no start time, no Ready condition.
      const view = (views[index] ??= {
        name: "",
        phase: "Pending",
        ready: undefined,
        startedAt: undefined,
        readyTransitionAt: Infinity,
        deleting: false,
        requestsMilli: requests,
      });
      const started = now >= pod.startedAt;
      const ready = now >= pod.readyAt;
      const phase = started ? "Running" : "Pending";
      const readyCondition = started ? ready : undefined;
      const readyTransitionAt = ready ? pod.readyAt : pod.startedAt;
      const deleting = isDeleted(pod, now);
      states.notice(pod, now);
      // Rewritten only when its pod changed: a pod's start time never changes once it runs, and writing
      // it anew would box it at every sync (it holds undefined or a number, and the pods of the start
      // began at -Infinity).
      if (
        viewPods[index] === pod &&
        view.phase === phase &&
        view.ready === readyCondition &&
        view.readyTransitionAt === readyTransitionAt &&
        view.deleting === deleting
      ) {
        continue;
      }
      viewPods[index] = pod;
      view.name = pod.name ??= this.nextName();
      view.phase = phase;
      view.ready = readyCondition;
      view.startedAt = started ? pod.startedAt : undefined;
      view.readyTransitionAt = readyTransitionAt;
      view.deleting = deleting;
    }
    states.end(this.revision, now);
    return views;
  }

  /**
   * The Deployment follows spec.replicas. New pods wait for a node (NodePool), then start after the
   * scheduling delay. Removing pods follows the ReplicaSet controller's order (ActivePodsWithRanks):
   * unscheduled before scheduled, not ready before ready, then the most recently ready first; a
   * removed pod serves nothing more and keeps its GPUs until its termination ends.
   */
  scaleTo(replicas: number, now: number): void {
    const { params } = this;
    this.revision++;
    const active = this.podList.filter((pod) => !isDeleted(pod, now));
    for (let count = active.length; count < replicas; count++) {
      const pod = newPod(this.nextName(), now, Infinity, Infinity, -1);
      this.podList.push(pod);
      this.unbound.push(pod);
    }
    this.bindPending(now);
    if (active.length > replicas) {
      const rank = (pod: Pod): number => (now < pod.startedAt ? 0 : now < pod.readyAt ? 1 : 2);
      active.sort((a, b) => rank(a) - rank(b) || b.readyAt - a.readyAt || b.createdAt - a.createdAt);
      const termination = params.terminationSeconds ?? 0;
      for (const pod of active.slice(0, active.length - replicas)) {
        pod.deletedAt = now;
        // A pod that never started has nothing to drain.
        const goneAt = now < pod.startedAt ? now : now + termination;
        pod.goneAt = goneAt;
        this.nextGoneAt = Math.min(this.nextGoneAt, goneAt);
        const unboundIndex = this.unbound.indexOf(pod);
        if (unboundIndex >= 0) this.unbound.splice(unboundIndex, 1);
      }
      this.reap(now);
    }
  }

  /** Binds waiting pods to free GPUs, oldest first; they start after the scheduling delay. */
  bindPending(now: number): void {
    while (this.unbound.length > 0) {
      const node = this.nodes ? this.nodes.bind(now) : -1;
      if (node === undefined) break;
      const pod = this.unbound.shift();
      if (!pod) break;
      this.revision++;
      pod.node = node;
      pod.startedAt = now + this.params.schedulingDelaySeconds;
      pod.readyAt = pod.startedAt + this.params.modelLoadSeconds;
    }
  }

  /** Pods waiting for a node. */
  get unboundCount(): number {
    return this.unbound.length;
  }

  /** Drops the pods whose termination has ended and frees their GPUs. */
  reap(now: number): void {
    if (now < this.nextGoneAt) return;
    let kept = 0;
    this.nextGoneAt = Infinity;
    for (const pod of this.podList) {
      const goneAt = pod.goneAt ?? Infinity;
      if (goneAt <= now) {
        this.nodes?.release(pod.node, now);
        this.revision++;
        continue;
      }
      this.nextGoneAt = Math.min(this.nextGoneAt, goneAt);
      this.podList[kept++] = pod;
    }
    if (kept < this.podList.length) this.podList.length = kept;
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
    // One pass over the pods for both the serving capacity and the GPU time of the tick: a deleted
    // pod serves until its deletion and holds its GPUs until it is gone.
    const end = now + dt;
    let readySeconds = 0;
    let startedSeconds = 0;
    if (this.servingStates.holdOver(this.revision, now, end)) {
      // No pod changes state within the tick: each serves (holds its GPUs) all of it or none of it,
      // and the sums add the same terms in the same order as the pass below.
      const whole = end - now;
      for (let pod = 0; pod < this.servingPods; pod++) readySeconds += whole;
      for (let pod = 0; pod < this.holdingPods; pod++) startedSeconds += whole;
    } else {
      const states = this.servingStates;
      let serving = 0;
      let holding = 0;
      states.begin();
      for (const pod of this.podList) {
        const deletedAt = pod.deletedAt ?? Infinity;
        const goneAt = pod.goneAt ?? Infinity;
        const servingSeconds = Math.max(0, Math.min(end, deletedAt) - Math.max(now, pod.readyAt));
        const holdingSeconds = Math.max(0, Math.min(end, goneAt) - Math.max(now, pod.startedAt));
        readySeconds += servingSeconds;
        startedSeconds += holdingSeconds;
        if (servingSeconds > 0) serving++;
        if (holdingSeconds > 0) holding++;
        states.notice(pod, now);
      }
      // Kept for the ticks after this one when no pod changed state within it.
      if (states.end(this.revision, now, end)) {
        this.servingPods = serving;
        this.holdingPods = holding;
      }
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
