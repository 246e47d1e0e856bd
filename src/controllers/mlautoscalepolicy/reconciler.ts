// The one reconciler: policy key -> read the caches -> desired children -> apply -> prune -> status.
import type {
  KubernetesObject,
  V1Deployment,
  V1LabelSelector,
  V1PodDisruptionBudget,
  V1StatefulSet,
  V2HorizontalPodAutoscaler,
} from "@kubernetes/client-node";
import {
  ConditionType,
  describePatterns,
  disallowedEndpoints,
  parsePolicy,
  Reason,
  type EndpointPattern,
  type MLAutoscalePolicy,
  type PolicyStatus,
} from "../../api/v1alpha1/index.js";
import type { ScaledObject, TriggerAuthentication } from "../../keda/types.js";
import type { ReconcileContext, ReconcileResult } from "../../runtime/controller.js";
import type { EventRecorder } from "../../runtime/events.js";
import {
  metaTime,
  keyString,
  mutableCopy,
  type DeepReadonly,
  type KubeObject,
  type ObjectKey,
} from "../../runtime/object.js";
import { controllerOf } from "../../runtime/ownerref.js";
import { selectorMatches } from "../../runtime/labels.js";
import { OWNER_INDEX, type ReadonlyStore } from "../../runtime/store.js";
import { canonicalJson } from "../../runtime/compare.js";
import { KubeApiError, TerminalError } from "../../runtime/errors.js";
import {
  buildDesiredChildren,
  childObjects,
  type DesiredChildren,
  type ExternalMetricsApi,
  type KedaAvailability,
  type KubernetesFeatures,
  NEWEST_KUBERNETES_FEATURES,
} from "./desired/index.js";
import { POLICY_LABEL, scaleTarget } from "./desired/metadata.js";
import { claimsBefore, FOREIGN_PDB_INDEX, SCALE_TARGET_INDEX, scaleTargetKey } from "./scale-target.js";
import { planHandover, type HpaState } from "./handover.js";
import { computeStatus, type ObservedChildren, type ReconcileVerdict } from "./status.js";

/** A policy as the cache holds it: validated by the CRD's schema, not yet by ours. */
export interface PolicyObject extends KubeObject {
  spec?: unknown;
  status?: PolicyStatus;
}

export interface KedaCaches {
  scaledObjects: ReadonlyStore<ScaledObject>;
  triggerAuthentications: ReadonlyStore<TriggerAuthentication>;
}

/** Read-only views of the informer caches the reconciler needs. */
export interface PolicyCaches {
  policies: ReadonlyStore<PolicyObject>;
  deployments: ReadonlyStore<V1Deployment>;
  statefulSets: ReadonlyStore<V1StatefulSet>;
  hpas: ReadonlyStore<V2HorizontalPodAutoscaler>;
  pdbs: ReadonlyStore<V1PodDisruptionBudget>;
  /** KEDA's caches while its CRDs are installed and synced; undefined otherwise. */
  keda(): KedaCaches | undefined;
  /**
   * Why KEDA's caches, its CRDs being served, have not synced yet; undefined when they have or KEDA is
   * absent. Meanwhile no policy is reconciled: without KEDA's objects neither the engine nor a conflict
   * can be decided.
   */
  kedaCachesSyncing?(): string | undefined;
  /**
   * Whether KEDA runs, beyond its CRDs being served. Default: running whenever its caches exist.
   */
  kedaAvailability?(): KedaAvailability;
  /** Whether an HPA's External metrics have a server. Default: they do. */
  externalMetricsApi?(): ExternalMetricsApi;
  /**
   * What the API server's Kubernetes version can take; undefined until its version is known (policies
   * wait meanwhile: a child built for another version could carry a field the server drops). Default: the
   * newest version's.
   */
  kubernetesFeatures?(): KubernetesFeatures | undefined;
}

export interface ChildRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

/** The writes the reconciler makes; all of them go through here (one field manager). */
export interface PolicyWriter {
  /**
   * Server-side applies `desired` unless `live` already matches: the API server's answer (the object as
   * it now is), or undefined when no request was sent.
   */
  apply<T extends KubernetesObject>(
    desired: T,
    live: DeepReadonly<KubeObject> | undefined,
  ): Promise<T | undefined>;
  /** Server-side applies the status; returns the policy's resourceVersion after the write. */
  applyStatus(policy: ChildRef, status: PolicyStatus): Promise<string | undefined>;
  /** Deletes only the object with this UID. Orphan leaves its dependents (KEDA's HPA) in place. */
  delete(child: ChildRef, uid: string, propagation: "Background" | "Orphan"): Promise<void>;
  /** Sets replicas through the scale subresource. */
  scale(child: ChildRef, replicas: number): Promise<void>;
  /**
   * A JSON merge patch (without metadata) of the object with this UID: for a field the child's apply does
   * not set.
   */
  patch(child: ChildRef, uid: string, mergePatch: Record<string, unknown>): Promise<void>;
}

export interface PolicyReconcilerOptions {
  caches: PolicyCaches;
  writer: PolicyWriter;
  events: EventRecorder;
  now?: () => Date;
  /**
   * Where trigger addresses may point (the clusters without the admission policy rely on this); empty or
   * absent: anywhere.
   */
  allowedTriggerEndpoints?: readonly EndpointPattern[];
  /** Which policy labels children get (keys, or prefixes ending in "/"); absent: all but tracking labels. */
  propagateLabels?: readonly string[];
}

/** How soon to look again while KEDA's caches have not synced (they enqueue every policy once they do). */
const KEDA_CACHES_RETRY_MS = 30_000;

/**
 * How long a status just written is preferred to an older one in the cache. The cache catches up within
 * a watch round trip; past this, someone else's later write (a `kubectl edit` of the status) wins.
 */
const WRITTEN_STATUS_TRUST_MS = 30_000;

/**
 * How long a child this process created is taken as existing while the caches have not shown it. Its
 * watch event follows within a round trip; until then another reconcile of the policy (its other
 * children's events bring one) would send the create again, which the API server answers 409
 * AlreadyExists and the writer follows with a read: under load, a third of a 1,000-policy roll-out's
 * Deployment creates. Past this, the caches are trusted again (the child may have been deleted unseen).
 */
const CREATED_TRUST_MS = 30_000;

/** How soon to look again while the API server's version is not known. */
const SERVER_VERSION_RETRY_MS = 5_000;

/** How soon to look again while a hand-over between engines is under way. */
const HANDOVER_REQUEUE_MS = 2_000;

const API = {
  deployment: { apiVersion: "apps/v1", kind: "Deployment" },
  hpa: { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler" },
  pdb: { apiVersion: "policy/v1", kind: "PodDisruptionBudget" },
  scaledObject: { apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject" },
  triggerAuthentication: { apiVersion: "keda.sh/v1alpha1", kind: "TriggerAuthentication" },
} as const;

type Live = DeepReadonly<KubeObject>;

/** What this reconcile's writes left: the API server's answers by childKey. */
interface WrittenChildren {
  answers: Map<string, KubernetesObject>;
}

/** What applying the children came to. */
interface AppliedChildren {
  result?: ReconcileResult;
  /** The ScaledObject was not written: it waits for the Deployment just created to reach the cache. */
  scaledObjectDeferred: boolean;
}

function childKey(kind: string, name: string): string {
  return `${kind}/${name}`;
}

function createdKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

/** A child as events name it: "Deployment llama". */
function describeChild(kind: string, name: string): string {
  return `${kind} ${name}`;
}

/** What a reconcile concluded: the status verdict, and what the controller is told. */
interface ReconcileOutcome {
  verdict: ReconcileVerdict;
  result?: ReconcileResult;
  /**
   * The ScaledObject waits for the Deployment this reconcile created to reach the cache, and the next
   * reconcile, moments away, writes it and the status: none is written now.
   */
  statusDeferred?: boolean;
  /** Thrown once the status is written: the controller retries (or not, for a TerminalError). */
  error?: Error;
}

/**
 * The field managers that write a workload's replicas as its autoscaler: the HPA controller (in
 * kube-controller-manager) and KEDA's operator (named after its binary: `keda` in KEDA's images). Any
 * other manager of spec.replicas (a GitOps tool or `kubectl apply` whose manifest sets replicas,
 * `kubectl scale`) fights the autoscaler.
 */
export const AUTOSCALER_FIELD_MANAGERS: ReadonlySet<string> = new Set([
  "kube-controller-manager",
  "keda",
  "keda-operator",
]);

/**
 * Who else writes a targetRef workload's spec.replicas, from the managedFields the cache keeps for that
 * field (keepWritersOf): a sentence for the Reconciled condition, or undefined.
 */
function otherReplicaWriters(
  workload: DeepReadonly<V1Deployment> | DeepReadonly<V1StatefulSet>,
  described: string,
): string | undefined {
  const others = (workload.metadata?.managedFields ?? []).filter(
    (entry) => !AUTOSCALER_FIELD_MANAGERS.has(entry.manager ?? ""),
  );
  if (others.length === 0) return undefined;
  const names = [
    ...new Set(
      others.map(
        (entry) =>
          `${entry.manager ?? "unknown"} (${entry.operation ?? "?"}${entry.subresource === undefined ? "" : ` on ${entry.subresource}`})`,
      ),
    ),
  ];
  return `spec.replicas of ${described} is also written by ${names.join(", ")}: it and the autoscaler will fight over the replica count; remove replicas from that manifest (or stop scaling it by hand)`;
}

function isDeployment(object: KubernetesObject): object is V1Deployment {
  return object.kind === API.deployment.kind;
}

function isHpa(object: KubernetesObject): object is V2HorizontalPodAutoscaler {
  return object.kind === API.hpa.kind;
}

function isScaledObject(object: KubernetesObject): object is ScaledObject {
  return object.kind === API.scaledObject.kind;
}

function controlledByUid(object: Live | undefined, uid: string): boolean {
  return object !== undefined && controllerOf(object)?.uid === uid;
}

/** A child's name is taken by an object the policy does not control (found by a create, not the caches). */
export class ChildNameTakenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ChildNameTakenError";
  }
}

/**
 * A child the API server did not take. `refused` when it answered that the object is invalid, forbidden
 * or denied by an admission webhook (400, 403, 422): the same write would be refused again.
 */
export class ChildWriteError extends Error {
  constructor(
    message: string,
    readonly refused: boolean,
    /** The name is another party's (ChildNameTakenError). */
    readonly nameTaken = false,
  ) {
    super(message);
    this.name = "ChildWriteError";
  }

  static of(child: string, error: unknown): ChildWriteError {
    if (error instanceof ChildNameTakenError) return new ChildWriteError(error.message, false, true);
    if (error instanceof KubeApiError) {
      const refused = [400, 403, 422].includes(error.statusCode);
      // The API server's own words: an admission webhook's reason reaches the policy verbatim.
      return new ChildWriteError(`${child}: ${error.message}`, refused);
    }
    return new ChildWriteError(`${child}: ${error instanceof Error ? error.message : String(error)}`, false);
  }
}

/**
 * An HPA the policy answers for: its own, the one KEDA made for the policy's ScaledObject, or its own
 * released without an owner during a hand-over (the policy's name and label, no controller).
 */
function isPolicysHpa(
  hpa: Live,
  policyName: string,
  policyUid: string,
  scaledObjectUid: string | undefined,
): boolean {
  const controller = controllerOf(hpa);
  if (controller !== undefined) return controller.uid === policyUid || controller.uid === scaledObjectUid;
  return hpa.metadata?.name === policyName && hpa.metadata.labels?.[POLICY_LABEL] === policyName;
}

export class PolicyReconciler {
  private readonly caches: PolicyCaches;
  private readonly writer: PolicyWriter;
  private readonly events: EventRecorder;
  private readonly now: () => Date;
  /** The last status written per policy (namespace/name), until the cache shows it. */
  private readonly writtenStatus = new Map<
    string,
    { uid: string; status: PolicyStatus; resourceVersion: string | undefined; writtenAt: number }
  >();
  /**
   * What a reconcile that held its ScaledObject back created, per policy: the next reconcile's Created
   * event names it with the ScaledObject, one event for the policy's children as without the wait.
   */
  private readonly createdBeforeScaledObject = new Map<string, string[]>();
  /**
   * Children this process created that the caches have not shown yet, by createdKey, oldest first: the
   * API server's answer to the create, and when it came.
   */
  private readonly createdNotCached = new Map<string, { object: Live; createdAt: number }>();

  constructor(private readonly options: PolicyReconcilerOptions) {
    this.caches = options.caches;
    this.writer = options.writer;
    this.events = options.events;
    this.now = options.now ?? (() => new Date());
  }

  /**
   * The policy cache now holds `policy`: the status written for it is let go once the cache shows it.
   * Without this a status stays held until the policy's next reconcile, which a status change does not
   * cause: after a roll-out, one status per policy, for up to the resync period.
   */
  readonly policyCached = (policy: DeepReadonly<PolicyObject>): void => {
    if (this.writtenStatus.size > 0) this.lastStatus(policy);
  };

  /**
   * A child informer has shown `object` (added) or its deletion: from now on its cache says whether the
   * object exists, not the create this process remembers.
   */
  readonly childCached = (object: DeepReadonly<KubeObject>): void => {
    if (this.createdNotCached.size === 0) return;
    const metadata = object.metadata;
    this.createdNotCached.delete(
      createdKey(object.kind ?? "", metadata?.namespace ?? "", metadata?.name ?? ""),
    );
  };

  /** Statuses written and not yet seen in the policy cache. */
  get statusesAwaitingCache(): number {
    return this.writtenStatus.size;
  }

  readonly reconcile = async (key: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | void> => {
    const raw = this.caches.policies.get(key.namespace, key.name);
    if (raw === undefined) {
      // Deleted: garbage collection removes the children through their owner references.
      this.writtenStatus.delete(keyString(key));
      this.createdBeforeScaledObject.delete(keyString(key));
      return;
    }
    if (raw.metadata?.deletionTimestamp !== undefined) return;
    const syncing = this.caches.kedaCachesSyncing?.();
    if (syncing !== undefined) {
      context.logger?.info({ reason: syncing }, "waiting for KEDA's caches");
      return { requeueAfterMs: KEDA_CACHES_RETRY_MS };
    }
    if (this.kubernetesFeatures() === undefined) {
      context.logger?.info("waiting for the API server's version");
      return { requeueAfterMs: SERVER_VERSION_RETRY_MS };
    }

    // One reconcile: read, build, apply, prune, then the status, once, from the caches and the answers to
    // the writes just made (the caches have not seen those yet).
    const written: WrittenChildren = { answers: new Map() };
    const parsed = parsePolicy(mutableCopy(raw));
    const policy = parsed.ok ? parsed.policy : undefined;
    const outcome: ReconcileOutcome =
      policy === undefined
        ? {
            verdict: {
              kind: "failed",
              reason: Reason.InvalidSpec,
              message: `invalid spec, children left as they are: ${parsed.ok ? "" : parsed.problems.join("; ")}`,
            },
          }
        : await this.reconcileValid(policy, raw, context, written);
    if (outcome.statusDeferred !== true) {
      await this.writeStatus(raw, policy, outcome.verdict, this.observe(raw, policy, written));
    }
    if (outcome.error !== undefined) throw outcome.error;
    return outcome.result;
  };

  private async reconcileValid(
    policy: MLAutoscalePolicy,
    raw: DeepReadonly<PolicyObject>,
    context: ReconcileContext,
    written: WrittenChildren,
  ): Promise<ReconcileOutcome> {
    const engineInUse = raw.status?.engine;
    // Before anything is applied, paused or not: KEDA would send the triggers' credentials to these
    // addresses. Children already there are left as they are, as for an invalid spec.
    const allowed = this.options.allowedTriggerEndpoints ?? [];
    const refusals = disallowedEndpoints(policy.spec, allowed);
    if (refusals.length > 0) {
      return {
        verdict: {
          kind: "failed",
          reason: Reason.EndpointNotAllowed,
          message: `${refusals.map((r) => r.message).join("; ")} (allowed: ${describePatterns(allowed)}); children left as they are`,
          ...(engineInUse !== undefined && { engine: engineInUse }),
        },
      };
    }
    if (policy.spec.paused) {
      return {
        verdict: {
          kind: "failed",
          reason: Reason.Paused,
          message: "spec.paused is true: children are left as they are",
          ...(engineInUse !== undefined && { engine: engineInUse }),
        },
      };
    }

    const namespace = policy.metadata.namespace ?? "";
    const ref = policy.spec.workload.targetRef;
    let targetSelector: V1LabelSelector | undefined;
    let targetPodLabels: DeepReadonly<Record<string, string>> | undefined;
    let replicasWrittenElsewhere: string | undefined;
    if (ref !== undefined) {
      const target =
        ref.kind === "Deployment"
          ? this.caches.deployments.get(namespace, ref.name)
          : this.caches.statefulSets.get(namespace, ref.name);
      if (target === undefined) {
        return {
          verdict: {
            kind: "failed",
            reason: Reason.TargetNotFound,
            message: `${ref.kind} ${namespace}/${ref.name} not found`,
          },
        };
      }
      const selector = target.spec?.selector;
      if (selector !== undefined) targetSelector = mutableCopy<V1LabelSelector>(selector);
      replicasWrittenElsewhere = otherReplicaWriters(target, `${ref.kind} ${namespace}/${ref.name}`);
      targetPodLabels = target.spec?.template.metadata?.labels;
    }

    const keda = this.caches.keda();
    const currentEngine = raw.status?.engine;
    const externalMetrics = this.caches.externalMetricsApi?.();
    const kubernetes = this.kubernetesFeatures();
    const desired = buildDesiredChildren(policy, {
      ...(kubernetes !== undefined && { kubernetes }),
      keda: this.kedaAvailability(),
      ...(externalMetrics !== undefined && { externalMetrics }),
      ...(currentEngine !== undefined && { currentEngine }),
      ...(targetSelector !== undefined && { targetSelector }),
      ...(this.options.propagateLabels !== undefined && { propagateLabels: this.options.propagateLabels }),
    });
    if (!desired.ok) return { verdict: { kind: "failed", reason: desired.reason, message: desired.message } };
    let children = desired.children;

    // The eviction API refuses to evict a pod that two PDBs select: a second PDB on pods another PDB
    // already covers would block every drain of them. Create none (and remove ours), and say so.
    const podLabels = targetPodLabels ?? children.deployment?.spec?.template.metadata?.labels;
    const coveringPdb =
      children.pdb === undefined
        ? undefined
        : this.caches.pdbs
            .byIndex(FOREIGN_PDB_INDEX, namespace)
            // Another policy's PDB is settled by the claim rule (findConflict), not here.
            .find((pdb) => selectorMatches(pdb.spec?.selector, podLabels));
    let pdbOverlap: string | undefined;
    if (coveringPdb !== undefined) {
      const { pdb: _overlapping, ...withoutPdb } = children;
      children = withoutPdb;
      pdbOverlap = `PodDisruptionBudget ${namespace}/${coveringPdb.metadata?.name ?? ""} already covers the workload's pods, so the policy creates none: the eviction API refuses to evict a pod that two PDBs select`;
    }

    // The children as a list, once: the conflict check, the applies, prune and the status all read it.
    const objects = childObjects(children);
    const conflict = this.findConflict(policy, raw, objects, keda);
    if (conflict !== undefined) {
      // Never two autoscalers (or two PDBs) on one workload: a policy in Conflict keeps none of its own,
      // whether it lost a race it could not see in its cache or the other party came later.
      const removed = await this.removeOwnAutoscaling(policy, raw, keda, conflict);
      return {
        verdict: {
          kind: "failed",
          reason: Reason.Conflict,
          message: `${conflict}; this policy keeps no autoscaler or PDB meanwhile${removed.length > 0 ? ` (deleted ${removed.join(", ")})` : ""}`,
          engine: children.engine,
        },
      };
    }

    let applied: AppliedChildren;
    try {
      applied = await this.applyChildren(policy, raw, children, objects, keda, context, written);
    } catch (error) {
      const refused = error instanceof ChildWriteError && error.refused;
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof ChildWriteError && error.nameTaken) {
        // Someone else made an object of a child's name before the caches could show it. Once they do,
        // the conflict check settles it (and this policy keeps no autoscaler of its own meanwhile).
        return {
          verdict: { kind: "failed", reason: Reason.Conflict, message, engine: children.engine },
          error,
        };
      }
      return {
        verdict: {
          kind: "failed",
          reason: refused ? Reason.ApplyRefused : Reason.ApplyFailed,
          message,
          engine: children.engine,
        },
        // A refusal (invalid, forbidden, denied by an admission webhook) comes back the same on every
        // retry: it waits for the policy or the cluster to change, which enqueues the policy again.
        // Anything else is retried with back-off.
        error: refused
          ? new TerminalError(message, { cause: error })
          : error instanceof Error
            ? error
            : new Error(message),
      };
    }
    const appliedRefs = objects.map((o) => ({
      apiVersion: o.apiVersion ?? "",
      kind: o.kind ?? "",
      name: o.metadata?.name ?? "",
    }));
    const { result, scaledObjectDeferred } = applied;
    return {
      verdict: {
        kind: "applied",
        engine: children.engine,
        corrections: children.corrections,
        ...(pdbOverlap !== undefined && { pdbOverlap }),
        ...(replicasWrittenElsewhere !== undefined && { replicasWrittenElsewhere }),
        ...(children.featuresNotApplied.length > 0 && { featuresNotApplied: children.featuresNotApplied }),
        children: appliedRefs,
        ...(children.problem !== undefined && { problem: children.problem }),
      },
      ...(result !== undefined && { result }),
      ...(scaledObjectDeferred && { statusDeferred: true }),
    };
  }

  /**
   * Another autoscaler on the same workload, or an object with a child's name that the policy does not
   * own: the operator reports it and does not fight.
   */
  private findConflict(
    policy: MLAutoscalePolicy,
    raw: DeepReadonly<PolicyObject>,
    objects: readonly KubernetesObject[],
    keda: KedaCaches | undefined,
  ): string | undefined {
    const namespace = policy.metadata.namespace ?? "";
    const uid = policy.metadata.uid ?? "";
    const target = scaleTarget(policy);
    const ourScaledObject = keda?.scaledObjects.get(namespace, policy.metadata.name);
    const ourScaledObjectUid = controlledByUid(ourScaledObject, uid)
      ? ourScaledObject?.metadata?.uid
      : undefined;

    // Other policies on the same workload: the older claim wins; the younger ones remove what they made.
    const targetKey = scaleTargetKey({ namespace, kind: target.kind, name: target.name });
    const rivals = this.caches.policies
      .byIndex(SCALE_TARGET_INDEX, targetKey)
      .filter((p) => p.metadata?.uid !== uid && p.metadata?.deletionTimestamp === undefined);
    const older = rivals.find((rival) => claimsBefore(rival, raw));
    if (older !== undefined) {
      return `MLAutoscalePolicy ${namespace}/${older.metadata?.name ?? ""} claimed ${target.kind} ${target.name} first (the older policy wins)`;
    }
    // What the younger ones made is theirs to remove: not a reason for this policy to stand back.
    const ofYoungerRival = (object: Live): boolean =>
      rivals.some((rival) => {
        const rivalName = rival.metadata?.name ?? "";
        const rivalUid = rival.metadata?.uid ?? "";
        const rivalScaledObject = keda?.scaledObjects.get(namespace, rivalName);
        const rivalScaledObjectUid = controlledByUid(rivalScaledObject, rivalUid)
          ? rivalScaledObject?.metadata?.uid
          : undefined;
        return (
          controlledByUid(object, rivalUid) ||
          (object.kind !== API.scaledObject.kind &&
            isPolicysHpa(object, rivalName, rivalUid, rivalScaledObjectUid))
        );
      });

    for (const hpa of this.caches.hpas.byIndex(SCALE_TARGET_INDEX, targetKey)) {
      if (!this.isOurHpa(hpa, policy, ourScaledObjectUid) && !ofYoungerRival(hpa)) {
        return `HorizontalPodAutoscaler ${namespace}/${hpa.metadata?.name ?? ""} already scales ${target.kind} ${target.name}; remove it or point the policy elsewhere`;
      }
    }
    for (const so of keda?.scaledObjects.byIndex(SCALE_TARGET_INDEX, targetKey) ?? []) {
      if (!controlledByUid(so, uid) && !ofYoungerRival(so)) {
        return `ScaledObject ${namespace}/${so.metadata?.name ?? ""} already scales ${target.kind} ${target.name}; remove it or point the policy elsewhere`;
      }
    }
    for (const child of objects) {
      const live = this.liveChild(child.kind ?? "", namespace, child.metadata?.name ?? "", keda);
      if (live === undefined || controlledByUid(live, uid)) continue;
      if (child.kind === API.hpa.kind && this.isOurHpa(live, policy, ourScaledObjectUid)) continue;
      return `${child.kind ?? "object"} ${namespace}/${child.metadata?.name ?? ""} exists and is not owned by this policy`;
    }
    return undefined;
  }

  /**
   * The policy's HPA in any of its hand-over states: owned by the policy, managed by KEDA for the
   * policy's ScaledObject, or left without owner between the two, still labelled with the policy.
   */
  private isOurHpa(hpa: Live, policy: MLAutoscalePolicy, ourScaledObjectUid: string | undefined): boolean {
    return isPolicysHpa(hpa, policy.metadata.name, policy.metadata.uid ?? "", ourScaledObjectUid);
  }

  /** The child as the caches hold it or, while they have not shown it yet, as this process created it. */
  private liveChild(
    kind: string,
    namespace: string,
    name: string,
    keda: KedaCaches | undefined,
  ): Live | undefined {
    const cached = this.cachedChild(kind, namespace, name, keda);
    if (this.createdNotCached.size === 0) return cached;
    const key = createdKey(kind, namespace, name);
    const created = this.createdNotCached.get(key);
    if (created === undefined) return cached;
    if (cached !== undefined || this.now().getTime() - created.createdAt > CREATED_TRUST_MS) {
      this.createdNotCached.delete(key);
      return cached;
    }
    return created.object;
  }

  /** Remembers a child just created until the caches show it (childCached) or CREATED_TRUST_MS pass. */
  private rememberCreated(answer: KubernetesObject): void {
    const now = this.now().getTime();
    // Oldest first: drop what has expired, so that children whose events never came are not kept.
    for (const [key, entry] of this.createdNotCached) {
      if (now - entry.createdAt <= CREATED_TRUST_MS) break;
      this.createdNotCached.delete(key);
    }
    const { managedFields: _unread, ...metadata } = answer.metadata ?? {};
    const key = createdKey(answer.kind ?? "", metadata.namespace ?? "", metadata.name ?? "");
    this.createdNotCached.delete(key);
    this.createdNotCached.set(key, { object: { ...answer, metadata }, createdAt: now });
  }

  private cachedChild(
    kind: string,
    namespace: string,
    name: string,
    keda: KedaCaches | undefined,
  ): Live | undefined {
    switch (kind) {
      case API.deployment.kind:
        return this.caches.deployments.get(namespace, name);
      case API.hpa.kind:
        return this.caches.hpas.get(namespace, name);
      case API.pdb.kind:
        return this.caches.pdbs.get(namespace, name);
      case API.scaledObject.kind:
        return keda?.scaledObjects.get(namespace, name);
      case API.triggerAuthentication.kind:
        return keda?.triggerAuthentications.get(namespace, name);
      default:
        return undefined;
    }
  }

  private async applyChildren(
    policy: MLAutoscalePolicy,
    raw: DeepReadonly<PolicyObject>,
    children: DesiredChildren,
    objects: readonly KubernetesObject[],
    keda: KedaCaches | undefined,
    context: ReconcileContext,
    written: WrittenChildren,
  ): Promise<AppliedChildren> {
    const namespace = policy.metadata.namespace ?? "";
    const name = policy.metadata.name;
    const uid = policy.metadata.uid ?? "";
    const ourScaledObject = keda?.scaledObjects.get(namespace, name);
    const scaledObject = controlledByUid(ourScaledObject, uid) ? ourScaledObject : undefined;
    const plan = planHandover({
      engine: children.engine,
      scaledObject:
        scaledObject === undefined
          ? "absent"
          : scaledObject.metadata?.deletionTimestamp === undefined
            ? "present"
            : "deleting",
      scaledObjectRestores: scaledObject?.spec.advanced?.restoreToOriginalReplicaCount === true,
      hpa: this.hpaState(policy, scaledObject?.metadata?.uid),
    });
    const scaledObjectRef = { ...API.scaledObject, namespace, name };
    if (plan.disableRestore && scaledObject !== undefined) {
      await this.disableRestore(scaledObjectRef, scaledObject);
    }

    if (context.signal.aborted) throw new Error("shutting down");
    // Two waves, each applied concurrently (one API round trip per wave when something changed): the
    // workload and what the autoscaler refers to, then the autoscaler. KEDA's admission webhook reads
    // the scale target (and its containers' requests, for cpu and memory triggers) when a ScaledObject is
    // written, so the Deployment must exist first.
    const toApply = objects.filter(
      (desired) =>
        (desired.kind !== API.hpa.kind || plan.applyHpa) &&
        (desired.kind !== API.scaledObject.kind || plan.applyScaledObject),
    );
    const isAutoscaler = (o: KubernetesObject): boolean =>
      o.kind === API.hpa.kind || o.kind === API.scaledObject.kind;
    // One event for what the reconcile created, not one per child: a roll-out of many policies would
    // otherwise spend a third of its writes on events.
    const policyKey = keyString({ namespace, name });
    const createdBefore = this.createdBeforeScaledObject.get(policyKey) ?? [];
    this.createdBeforeScaledObject.delete(policyKey);
    const created: string[] = [];
    let scaledObjectDeferred = false;
    try {
      await this.applyWave(
        toApply.filter((o) => !isAutoscaler(o)),
        namespace,
        keda,
        created,
        written,
      );
      // KEDA's webhook looks the scale target up in KEDA's own informer cache, so a ScaledObject sent
      // right after its Deployment was created is refused ("Deployment.apps ... not found") whenever that
      // cache is behind, as it often is during a roll-out. The operator's cache sees the Deployment at
      // about the time KEDA's does, and its arrival enqueues the policy again: the ScaledObject is written
      // then. Only after a create, so that a Deployment the cache never shows cannot hold it back twice.
      const deploymentName = children.deployment?.metadata?.name;
      scaledObjectDeferred =
        plan.applyScaledObject &&
        scaledObject === undefined &&
        deploymentName !== undefined &&
        created.includes(describeChild(API.deployment.kind, deploymentName));
      const autoscalers = toApply.filter(
        (o) => isAutoscaler(o) && !(scaledObjectDeferred && o.kind === API.scaledObject.kind),
      );
      await this.applyWave(autoscalers, namespace, keda, created, written);
    } finally {
      const createdSoFar = [...createdBefore, ...created];
      if (scaledObjectDeferred) this.createdBeforeScaledObject.set(policyKey, createdSoFar);
      else if (createdSoFar.length > 0) {
        this.events.event(raw, "Normal", "Created", `created ${createdSoFar.join(", ")}`);
      }
    }

    if (plan.deleteScaledObject && scaledObject !== undefined) {
      // Orphan: KEDA's HPA (if it made one) is released, not deleted, and the policy adopts it.
      await this.writer.delete(scaledObjectRef, scaledObject.metadata?.uid ?? "", "Orphan");
      this.events.event(
        raw,
        "Normal",
        "EngineHandover",
        plan.phase === "ToHpaReleasing"
          ? `ScaledObject ${name} removed; its HorizontalPodAutoscaler is kept and adopted by the policy`
          : `switched from KEDA to the HorizontalPodAutoscaler; ScaledObject ${name} deleted`,
      );
    }

    // The HPA does not act on a workload at 0 replicas (after KEDA scaled it to zero), and a withheld HPA
    // does not act at all: bring the policy's own Deployment up to replicas.min. Only ever up, so that
    // this never fights an autoscaler.
    const deployment = this.caches.deployments.get(namespace, name);
    const noAutoscalerActs = deployment?.spec?.replicas === 0 || children.problem?.withheld === true;
    if (
      children.engine === "HPA" &&
      children.deployment !== undefined &&
      deployment !== undefined &&
      controlledByUid(deployment, uid) &&
      noAutoscalerActs &&
      (deployment.spec?.replicas ?? 1) < policy.spec.replicas.min
    ) {
      await this.writer.scale({ ...API.deployment, namespace, name }, policy.spec.replicas.min);
    }

    await this.prune(policy, raw, objects, keda, plan.keepHpa);
    return {
      ...(plan.waiting && { result: { requeueAfterMs: HANDOVER_REQUEUE_MS } }),
      scaledObjectDeferred,
    };
  }

  /**
   * Applies `wave` concurrently; adds what it created (kind and name) to `created` and the API server's
   * answer for each object it wrote to `written`.
   */
  private async applyWave(
    wave: KubernetesObject[],
    namespace: string,
    keda: KedaCaches | undefined,
    created: string[],
    written: WrittenChildren,
  ): Promise<void> {
    const outcomes = await Promise.allSettled(
      wave.map(async (desired) => {
        const kind = desired.kind ?? "";
        const childName = desired.metadata?.name ?? "";
        const live = this.liveChild(kind, namespace, childName, keda);
        let answer: KubernetesObject | undefined;
        try {
          answer = await this.writer.apply(desired, live);
        } catch (error) {
          throw ChildWriteError.of(`${kind} ${namespace}/${childName}`, error);
        }
        if (answer === undefined) return;
        written.answers.set(childKey(kind, childName), answer);
        if (live === undefined) {
          created.push(describeChild(kind, childName));
          this.rememberCreated(answer);
        }
      }),
    );
    const failures = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason as unknown] : []));
    if (failures.length === 0) return;
    const errors = failures.map((f) => (f instanceof ChildWriteError ? f : ChildWriteError.of("a child", f)));
    // Refused only when every failure is a refusal: one transient failure means a retry can help.
    throw new ChildWriteError(
      errors.map((e) => e.message).join("; "),
      errors.every((e) => e.refused),
      errors.some((e) => e.nameTaken),
    );
  }

  private kubernetesFeatures(): KubernetesFeatures | undefined {
    if (this.caches.kubernetesFeatures === undefined) return NEWEST_KUBERNETES_FEATURES;
    return this.caches.kubernetesFeatures();
  }

  private kedaAvailability(): KedaAvailability {
    if (this.caches.keda() === undefined) return { state: "absent" };
    return this.caches.kedaAvailability?.() ?? { state: "running" };
  }

  /**
   * Deletes the policy's own autoscalers (HPA, ScaledObject and its TriggerAuthentication) and PDB: what
   * would act on, or guard, a workload another party scales. The Deployment stays. Returns what it deleted.
   */
  private async removeOwnAutoscaling(
    policy: MLAutoscalePolicy,
    raw: DeepReadonly<PolicyObject>,
    keda: KedaCaches | undefined,
    conflict: string,
  ): Promise<string[]> {
    const removed: string[] = [];
    const owned = this.ownedChildren(policy.metadata.namespace ?? "", policy.metadata.uid ?? "", keda);
    for (const [ref, object] of owned) {
      if (ref.kind === API.deployment.kind || object.metadata?.deletionTimestamp !== undefined) continue;
      const scaledObject =
        ref.kind === API.scaledObject.kind ? keda?.scaledObjects.get(ref.namespace, ref.name) : undefined;
      if (scaledObject?.spec.advanced?.restoreToOriginalReplicaCount === true) {
        // The other autoscaler scales the workload now: KEDA must not set it back on its way out.
        await this.disableRestore(ref, object);
      }
      await this.writer.delete(ref, object.metadata?.uid ?? "", "Background");
      this.events.event(raw, "Warning", "Deleted", `deleted ${ref.kind} ${ref.name}: ${conflict}`);
      removed.push(`${ref.kind} ${ref.name}`);
    }
    return removed;
  }

  /** Every child in the caches whose controller is the policy with `uid`, with its reference. */
  private ownedChildren(
    namespace: string,
    uid: string,
    keda: KedaCaches | undefined,
  ): Array<[ChildRef, Live]> {
    const stores: Array<[{ apiVersion: string; kind: string }, ReadonlyStore<KubeObject> | undefined]> = [
      [API.deployment, this.caches.deployments],
      [API.hpa, this.caches.hpas],
      [API.pdb, this.caches.pdbs],
      [API.scaledObject, keda?.scaledObjects],
      [API.triggerAuthentication, keda?.triggerAuthentications],
    ];
    return stores.flatMap(([api, store]) =>
      (store?.byIndex(OWNER_INDEX, uid) ?? []).map((object): [ChildRef, Live] => [
        { ...api, namespace, name: object.metadata?.name ?? "" },
        object,
      ]),
    );
  }

  /**
   * Deletes children the policy owns that are no longer desired, and only those. The policy's HPA stays
   * while KEDA is to adopt it (`keepHpa`), and its ScaledObject is the hand-over's to retire.
   */
  private async prune(
    policy: MLAutoscalePolicy,
    raw: DeepReadonly<PolicyObject>,
    objects: readonly KubernetesObject[],
    keda: KedaCaches | undefined,
    keepHpa: boolean,
  ): Promise<void> {
    const namespace = policy.metadata.namespace ?? "";
    const uid = policy.metadata.uid ?? "";
    const name = policy.metadata.name;
    const wanted = new Set(objects.map((o) => `${o.kind ?? ""}/${o.metadata?.name ?? ""}`));
    if (keepHpa) wanted.add(`${API.hpa.kind}/${name}`);
    wanted.add(`${API.scaledObject.kind}/${name}`);
    for (const [ref, object] of this.ownedChildren(namespace, uid, keda)) {
      if (wanted.has(`${ref.kind}/${ref.name}`)) continue;
      await this.writer.delete(ref, object.metadata?.uid ?? "", "Background");
      this.events.event(
        raw,
        "Normal",
        "Deleted",
        `deleted ${ref.kind} ${ref.name}: no longer part of the policy`,
      );
    }
  }

  /** The HPA with the policy's name, as the hand-over sees it. */
  private hpaState(policy: MLAutoscalePolicy, scaledObjectUid: string | undefined): HpaState {
    const hpa = this.caches.hpas.get(policy.metadata.namespace ?? "", policy.metadata.name);
    if (hpa === undefined) return "absent";
    const controller = controllerOf(hpa);
    if (controller !== undefined) {
      if (controller.uid === policy.metadata.uid) return "policy";
      return scaledObjectUid !== undefined && controller.uid === scaledObjectUid ? "keda" : "foreign";
    }
    return isPolicysHpa(hpa, policy.metadata.name, policy.metadata.uid ?? "", undefined)
      ? "released"
      : "foreign";
  }

  /**
   * Switches off KEDA's restoreToOriginalReplicaCount on a ScaledObject about to go for any reason but
   * the policy's deletion: KEDA's finalizer would otherwise set the workload back to the count it had
   * before KEDA took it over, under the autoscaler taking over from KEDA.
   */
  private async disableRestore(ref: ChildRef, scaledObject: Live): Promise<void> {
    await this.writer.patch(ref, scaledObject.metadata?.uid ?? "", {
      spec: { advanced: { restoreToOriginalReplicaCount: false } },
    });
  }

  /**
   * What the status reports on: the workload, the HPA doing the scaling, the ScaledObject; from the API
   * server's answers to this reconcile's writes where there are any, as the caches have not seen them yet.
   */
  private observe(
    raw: DeepReadonly<PolicyObject>,
    policy: MLAutoscalePolicy | undefined,
    written: WrittenChildren,
  ): ObservedChildren {
    const namespace = raw.metadata?.namespace ?? "";
    const name = raw.metadata?.name ?? "";
    const uid = raw.metadata?.uid ?? "";
    const ref = policy?.spec.workload.targetRef;
    const writtenDeployment = written.answers.get(childKey(API.deployment.kind, name));
    const workload =
      ref === undefined
        ? writtenDeployment !== undefined && isDeployment(writtenDeployment)
          ? writtenDeployment
          : this.caches.deployments.get(namespace, name)
        : ref.kind === "Deployment"
          ? this.caches.deployments.get(namespace, ref.name)
          : this.caches.statefulSets.get(namespace, ref.name);
    const keda = this.caches.keda();
    const writtenScaledObject = written.answers.get(childKey(API.scaledObject.kind, name));
    const scaledObject =
      writtenScaledObject !== undefined && isScaledObject(writtenScaledObject)
        ? writtenScaledObject
        : keda?.scaledObjects.get(namespace, name);
    const writtenHpa = written.answers.get(childKey(API.hpa.kind, name));
    const hpa =
      writtenHpa !== undefined && isHpa(writtenHpa) ? writtenHpa : this.caches.hpas.get(namespace, name);

    const children: ObservedChildren["children"] = [];
    const add = (api: { apiVersion: string; kind: string }, object: Live | undefined): void => {
      if (controlledByUid(object, uid)) children.push({ ...api, name: object?.metadata?.name ?? "" });
    };
    add(API.deployment, ref === undefined ? workload : undefined);
    add(API.hpa, hpa);
    add(API.scaledObject, scaledObject);
    add(API.triggerAuthentication, keda?.triggerAuthentications.get(namespace, name));
    add(API.pdb, this.caches.pdbs.get(namespace, name));

    const observed: ObservedChildren = { children };
    const availability = this.kedaAvailability();
    if (availability.state === "not-running") observed.kedaNotRunning = availability.message;
    if (workload !== undefined && (ref !== undefined || controlledByUid(workload, uid)))
      observed.workload = workload;
    const ourScaledObject = controlledByUid(scaledObject, uid) ? scaledObject : undefined;
    if (ourScaledObject !== undefined) observed.scaledObject = ourScaledObject;
    // A foreign HPA with the policy's name is a Conflict: its replicas and conditions are not the policy's.
    if (hpa !== undefined && isPolicysHpa(hpa, name, uid, ourScaledObject?.metadata?.uid)) observed.hpa = hpa;
    return observed;
  }

  private async writeStatus(
    raw: DeepReadonly<PolicyObject>,
    policy: MLAutoscalePolicy | undefined,
    verdict: ReconcileVerdict,
    observed: ObservedChildren,
  ): Promise<void> {
    const key = { namespace: raw.metadata?.namespace ?? "", name: raw.metadata?.name ?? "" };
    const previous = this.lastStatus(raw);
    const next = computeStatus({
      generation: raw.metadata?.generation,
      previous,
      verdict,
      observed,
      minReplicas: policy?.spec.replicas.min ?? 1,
      now: metaTime(this.now()),
    });
    if (previous !== undefined && canonicalJson(previous) === canonicalJson(next)) return;
    const resourceVersion = await this.writer.applyStatus(
      { apiVersion: raw.apiVersion ?? "", kind: raw.kind ?? "", ...key },
      next,
    );
    this.writtenStatus.set(keyString(key), {
      uid: raw.metadata?.uid ?? "",
      status: next,
      resourceVersion,
      writtenAt: this.now().getTime(),
    });
    // Events for the transitions that were written, and only those.
    this.recordTransitions(raw, previous, next);
  }

  /**
   * The status the next one is computed from. The cache can lag behind a status just written, and a status
   * computed from the one before would write again and move lastTransitionTime: until the cache shows
   * the write (its resourceVersion or its content), or for WRITTEN_STATUS_TRUST_MS at most, the status
   * written is the one to go by.
   */
  private lastStatus(raw: DeepReadonly<PolicyObject>): DeepReadonly<PolicyStatus> | undefined {
    const key = keyString({ namespace: raw.metadata?.namespace ?? "", name: raw.metadata?.name ?? "" });
    const written = this.writtenStatus.get(key);
    if (written === undefined) return raw.status;
    const caughtUp =
      written.uid !== raw.metadata?.uid ||
      (written.resourceVersion !== undefined && written.resourceVersion === raw.metadata?.resourceVersion) ||
      (raw.status !== undefined && canonicalJson(raw.status) === canonicalJson(written.status)) ||
      this.now().getTime() - written.writtenAt > WRITTEN_STATUS_TRUST_MS;
    if (!caughtUp) return written.status;
    this.writtenStatus.delete(key);
    return raw.status;
  }

  /** One event per condition change: Warning when it turns False, Normal when Ready turns True. */
  private recordTransitions(
    raw: DeepReadonly<PolicyObject>,
    previous: DeepReadonly<PolicyStatus> | undefined,
    next: PolicyStatus,
  ): void {
    for (const condition of next.conditions ?? []) {
      const before = previous?.conditions?.find((c) => c.type === condition.type);
      if (before?.status === condition.status && before.reason === condition.reason) continue;
      if (condition.status === "False" && condition.type !== ConditionType.Ready) {
        this.events.event(raw, "Warning", condition.reason, condition.message);
      } else if (condition.type === ConditionType.Ready && condition.status === "True") {
        this.events.event(raw, "Normal", condition.reason, condition.message);
      } else if (
        condition.type === ConditionType.Reconciled &&
        (condition.reason === Reason.DisruptionBudgetCorrected ||
          condition.reason === Reason.DisruptionBudgetOverlap ||
          condition.reason === Reason.ReplicasWrittenElsewhere ||
          condition.reason === Reason.FeatureUnavailable)
      ) {
        this.events.event(raw, "Warning", condition.reason, condition.message);
      }
    }
  }
}
