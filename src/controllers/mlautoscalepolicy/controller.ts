// Wires the MLAutoscalePolicy reconciler into the runtime: informers, watches, KEDA discovery, writes.
import type {
  V1Deployment,
  V1PodDisruptionBudget,
  V1StatefulSet,
  V2HorizontalPodAutoscaler,
} from "@kubernetes/client-node";
import type { Logger } from "pino";
import { Gauge, type Registry } from "prom-client";
import { API_VERSION, ConditionType, KIND, type EndpointPattern } from "../../api/v1alpha1/index.js";
import { KEDA_API_VERSION, type ScaledObject, type TriggerAuthentication } from "../../keda/types.js";
import type { Applier } from "../../runtime/apply.js";
import { sleep, systemClock } from "../../runtime/clock.js";
import { isAlreadyExists } from "../../runtime/errors.js";
import { withApplyHash } from "../../runtime/compare.js";
import {
  Controller,
  readFieldsChanged,
  specOrMetadataChanged,
  type UpdatePredicate,
} from "../../runtime/controller.js";
import {
  DiscoveryWatcher,
  restKindLookup,
  watchApiService,
  type ApiServiceState,
} from "../../runtime/discovery.js";
import type { Poller } from "../../runtime/poller.js";
import type { ServerVersion } from "../../runtime/server-version.js";
import type { EventRecorder } from "../../runtime/events.js";
import { createInformer, type SharedInformer } from "../../runtime/informer.js";
import type { IndexFunc, ReadonlyStore } from "../../runtime/store.js";
import type { Manager } from "../../runtime/manager.js";
import { keyString, type DeepReadonly, type KubeObject, type ObjectKey } from "../../runtime/object.js";
import type { OperatorMetrics } from "../../observability/metrics.js";
import { controllerOf, groupOf } from "../../runtime/ownerref.js";
import { objectPath, type JsonObject, type KubeRestClient, type ResourceType } from "../../runtime/rest.js";
import { watchServerVersion } from "../../runtime/server-version.js";
import { CACHE_TRANSFORMS } from "./cache-transforms.js";
import {
  isSupportedKubernetes,
  kubernetesFeatures,
  OLDEST_SUPPORTED_KUBERNETES,
  type ExternalMetricsApi,
  type KedaAvailability,
  type KubernetesFeatures,
} from "./desired/index.js";
import { CACHE_INDEXERS, SCALE_TARGET_INDEX, scaleTargetKey } from "./scale-target.js";
import {
  ChildNameTakenError,
  PolicyReconciler,
  type KedaCaches,
  type PolicyObject,
  type PolicyWriter,
} from "./reconciler.js";

/** The APIService of the external metrics API: KEDA's metrics server holds it while KEDA runs. */
export const EXTERNAL_METRICS_API_SERVICE = "v1beta1.external.metrics.k8s.io";

/**
 * Whether an APIService is KEDA's: KEDA's manifests and Helm chart label it part of keda-operator, and
 * name its Service keda-*-metrics-apiserver.
 */
function isKedas(state: Extract<ApiServiceState, { exists: true }>): boolean {
  return (
    state.labels["app.kubernetes.io/part-of"] === "keda-operator" || /keda/i.test(state.service?.name ?? "")
  );
}

function serviceName(state: Extract<ApiServiceState, { exists: true }>): string {
  return state.service === undefined ? "kube-apiserver" : `${state.service.namespace}/${state.service.name}`;
}

/**
 * Whether an HPA can read External metrics, from the APIService that routes them. One server holds the
 * API; KEDA's answers only for its ScaledObjects (it finds them by the scaledobject.keda.sh/name
 * selector), so with KEDA installed an HPA's own External metric has no server.
 */
export function externalMetricsApi(state: ApiServiceState | undefined): ExternalMetricsApi {
  if (state === undefined || !state.readable) return { servable: true };
  if (!state.exists) {
    return {
      servable: false,
      permanent: true,
      message: `no APIService ${EXTERNAL_METRICS_API_SERVICE}: no server provides external metrics (a metrics adapter such as prometheus-adapter would)`,
    };
  }
  if (isKedas(state)) {
    return {
      servable: false,
      permanent: true,
      message:
        `external.metrics.k8s.io is held by KEDA's metrics server (${serviceName(state)}), which serves only ` +
        `ScaledObjects' metrics, and only one server can hold it; read the metric through a KEDA trigger ` +
        `(e.g. prometheus) instead`,
    };
  }
  if (!state.available) {
    return {
      servable: false,
      permanent: false,
      message:
        `the server of external.metrics.k8s.io (${serviceName(state)}) is not Available: ${state.reason} ${state.message}`.trim(),
    };
  }
  return { servable: true };
}

/**
 * KEDA runs when its CRDs are served and its metrics server holds the external metrics API and is
 * Available: without that, KEDA's HPAs read nothing, and its operator is usually down with it. An
 * install that may not read the APIService assumes KEDA runs, as before this check existed.
 */
export function kedaAvailability(
  crdsServed: boolean,
  externalMetrics: ApiServiceState | undefined,
): KedaAvailability {
  if (!crdsServed) return { state: "absent" };
  if (externalMetrics === undefined || !externalMetrics.readable) return { state: "running" };
  if (!externalMetrics.exists) {
    return {
      state: "not-running",
      message: `no APIService ${EXTERNAL_METRICS_API_SERVICE}: KEDA's metrics server is not registered`,
    };
  }
  const service = externalMetrics.service;
  const serviceName = service === undefined ? "kube-apiserver" : `${service.namespace}/${service.name}`;
  if (!isKedas(externalMetrics)) {
    return {
      state: "not-running",
      message: `${EXTERNAL_METRICS_API_SERVICE} is served by ${serviceName}, not by KEDA's metrics server`,
    };
  }
  if (!externalMetrics.available) {
    return {
      state: "not-running",
      message:
        `KEDA's metrics server (${serviceName}) is not Available: ${externalMetrics.reason} ${externalMetrics.message}`.trim(),
    };
  }
  return { state: "running" };
}

export const CONTROLLER_NAME = "mlautoscalepolicy";
/** Hash of each child's desired state, so a field the policy stops setting still counts as a change. */
export const SPEC_HASH_ANNOTATION = "mlautoscale.io/spec-hash";

export interface PolicyControllerOptions {
  manager: Manager;
  rest: KubeRestClient;
  applier: Applier;
  events: EventRecorder;
  metrics: OperatorMetrics;
  logger: Logger;
  namespaces: readonly string[];
  workers: number;
  resyncPeriodMs: number;
  kedaDiscoveryIntervalMs: number;
  /** How long KEDA's caches may take to sync before the operator goes on without them. Default 60 s. */
  kedaSyncDeadlineMs?: number;
  /** Where trigger addresses may point; empty or absent: anywhere. */
  allowedTriggerEndpoints?: readonly EndpointPattern[];
  /** Which policy labels children get (keys, or prefixes ending in "/"); absent: all but tracking labels. */
  propagateLabels?: readonly string[];
}

const KEDA_SYNC_DEADLINE_MS = 60_000;

const RESOURCES = {
  policies: { apiVersion: API_VERSION, kind: KIND },
  deployments: { apiVersion: "apps/v1", kind: "Deployment", plural: "deployments", namespaced: true },
  statefulSets: { apiVersion: "apps/v1", kind: "StatefulSet", plural: "statefulsets", namespaced: true },
  hpas: {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    plural: "horizontalpodautoscalers",
    namespaced: true,
  },
  pdbs: {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    plural: "poddisruptionbudgets",
    namespaced: true,
  },
  scaledObjects: {
    apiVersion: KEDA_API_VERSION,
    kind: "ScaledObject",
    plural: "scaledobjects",
    namespaced: true,
  },
  triggerAuthentications: {
    apiVersion: KEDA_API_VERSION,
    kind: "TriggerAuthentication",
    plural: "triggerauthentications",
    namespaced: true,
  },
} as const;

/** The REST resource of a child kind. */
function childResource(kind: string): ResourceType {
  const resource = Object.values(RESOURCES).find(
    (r): r is Extract<typeof r, ResourceType> => "plural" in r && r.kind === kind,
  );
  if (resource === undefined) throw new Error(`not a child kind: ${kind}`);
  return resource;
}

/** Writes through server-side apply, deletes with a UID precondition, scales through /scale. */
export function restPolicyWriter(applier: Applier, rest: KubeRestClient): PolicyWriter {
  return {
    apply: async (desired, live) => {
      const stamped = withApplyHash(desired, SPEC_HASH_ANNOTATION);
      let current = live;
      if (current === undefined) {
        // Not in the cache: created with a create, which never merges into someone else's object.
        try {
          return await applier.create(stamped);
        } catch (error) {
          if (!isAlreadyExists(error)) throw error;
          // The caches have not seen it yet: the policy's own (an earlier write whose event is on its
          // way) is applied as usual; anyone else's is left alone.
          const existing = await applier.read({
            apiVersion: stamped.apiVersion ?? "",
            kind: stamped.kind ?? "",
            namespace: stamped.metadata?.namespace ?? "",
            name: stamped.metadata?.name ?? "",
          });
          if (existing === undefined) throw error;
          if (controllerOf(existing)?.uid !== controllerOf(stamped)?.uid) {
            throw new ChildNameTakenError(
              `${stamped.kind ?? "object"} ${stamped.metadata?.namespace ?? ""}/${stamped.metadata?.name ?? ""} exists and is not owned by this policy`,
            );
          }
          current = existing;
        }
      }
      const outcome = await applier.applyIfChanged(stamped, current);
      return outcome.written ? outcome.object : undefined;
    },
    applyStatus: async (policy, status) => {
      const answer = await applier.applyStatus({ ...policy, status });
      return answer.metadata?.resourceVersion;
    },
    delete: async (child, uid, propagation) => {
      // "not-found" and "uid-mismatch" both mean nothing of the policy's is left under that name.
      await applier.deleteIfUid(child, uid, propagation);
    },
    patch: async (child, uid, mergePatch) => {
      // The UID in the patch makes the API server refuse it (metadata.uid is immutable) for another
      // object of the same name.
      await rest.request("PATCH", objectPath(childResource(child.kind), child.namespace, child.name), {
        body: { ...mergePatch, metadata: { uid } },
        contentType: "application/merge-patch+json",
      });
    },
    scale: async (child, replicas) => {
      const path = `${objectPath(childResource(child.kind), child.namespace, child.name)}/scale`;
      await rest.request("PATCH", path, {
        body: { spec: { replicas } },
        contentType: "application/merge-patch+json",
      });
    },
  };
}

/** Policies whose scale target is `target` in its namespace (template: the policy's Deployment). */
function policiesTargeting(
  policies: SharedInformer<PolicyObject>,
  namespace: string,
  target: { kind?: string; name?: string } | undefined,
): ObjectKey[] {
  if (target?.name === undefined) return [];
  return policies.store
    .byIndex(
      SCALE_TARGET_INDEX,
      scaleTargetKey({ namespace, kind: target.kind ?? "Deployment", name: target.name }),
    )
    .map((p) => ({ namespace, name: p.metadata?.name ?? "" }));
}

/** The policy that controls `object`, if any. */
function owningPolicy(object: DeepReadonly<KubeObject>): ObjectKey[] {
  const owner = controllerOf(object);
  if (owner?.kind !== KIND || groupOf(owner.apiVersion) !== groupOf(API_VERSION)) return [];
  return [{ namespace: object.metadata?.namespace ?? "", name: owner.name }];
}

function unique(keys: ObjectKey[]): ObjectKey[] {
  const seen = new Map(keys.map((k) => [keyString(k), k]));
  return [...seen.values()];
}

/**
 * What the reconciler reads of an object it watches: everything but the bookkeeping every write
 * changes, and of the status only `status`. Updates that change none of it wake no policy.
 */
function readByReconciler<T extends KubeObject & { spec?: unknown }>(
  status: (object: DeepReadonly<T>) => unknown,
): UpdatePredicate<T> {
  return readFieldsChanged<T>((object) => {
    const { resourceVersion: _resourceVersion, ...metadata } = object.metadata ?? {};
    return { metadata, spec: object.spec, status: status(object) };
  });
}

/** A workload's status as computeStatus reads it (Ready, status.replicas and status.readyReplicas). */
const workloadChanged = readByReconciler<V1Deployment | V1StatefulSet>((w) => ({
  replicas: w.status?.replicas,
  readyReplicas: w.status?.readyReplicas,
  availableReplicas: w.status?.availableReplicas,
}));

/** An HPA's status as mirrored into the policy's: desired replicas, last scale time, ScalingActive. */
const hpaChanged = readByReconciler<V2HorizontalPodAutoscaler>((h) => ({
  desiredReplicas: h.status?.desiredReplicas,
  lastScaleTime: h.status?.lastScaleTime,
  scalingActive: h.status?.conditions
    ?.filter((c) => c.type === "ScalingActive")
    .map((c) => ({ status: c.status, reason: c.reason, message: c.message })),
}));

/** A ScaledObject's conditions and trigger health, which ScalingActive mirrors. */
const scaledObjectChanged = readByReconciler<ScaledObject>((so) => ({
  conditions: so.status?.conditions?.map((c) => ({
    type: c.type,
    status: c.status,
    reason: c.reason,
    message: c.message,
  })),
  health: so.status?.health,
}));

/** Nothing of a PDB's status is read: its counts change with every pod that starts or stops. */
const pdbChanged = readByReconciler<V1PodDisruptionBudget>(() => undefined);

/** Which updates of each watched kind wake the policies they map to. */
export const childUpdateFilters = {
  workload: workloadChanged,
  hpa: hpaChanged,
  scaledObject: scaledObjectChanged,
  pdb: pdbChanged,
} as const;

/** Registers the informers, the controller and KEDA discovery with the manager. */
export function setupPolicyController(options: PolicyControllerOptions): {
  controller: Controller;
  discovery: DiscoveryWatcher;
  /** Who holds the external metrics API (KEDA, when it runs). */
  externalMetrics: Poller<ApiServiceState>;
  /** The API server's version, which decides what the children may hold; policies wait for it. */
  serverVersion: Poller<ServerVersion>;
} {
  const { manager, rest, logger, namespaces } = options;
  // Each cache keeps what the reconciler reads of its kind (cache-transforms.ts).
  const informer = <T extends KubeObject>(
    resource: (typeof RESOURCES)[keyof typeof RESOURCES],
    transform: (object: JsonObject) => JsonObject,
    indexers?: Record<string, IndexFunc<T>>,
  ): SharedInformer<T> =>
    createInformer<T>(
      {
        rest,
        resource,
        logger: logger.child({ informer: resource.kind }),
        transform,
        ...(indexers !== undefined && { indexers }),
      },
      namespaces,
    );

  const policies = createInformer<PolicyObject>(
    {
      rest,
      resource: RESOURCES.policies,
      logger: logger.child({ informer: KIND }),
      indexers: CACHE_INDEXERS.policy,
      transform: CACHE_TRANSFORMS.policy,
    },
    namespaces,
  );
  const deployments = informer<V1Deployment>(RESOURCES.deployments, CACHE_TRANSFORMS.workload);
  const statefulSets = informer<V1StatefulSet>(RESOURCES.statefulSets, CACHE_TRANSFORMS.workload);
  const hpas = informer<V2HorizontalPodAutoscaler>(
    RESOURCES.hpas,
    CACHE_TRANSFORMS.hpa,
    CACHE_INDEXERS.autoscaler,
  );
  const pdbs = informer<V1PodDisruptionBudget>(RESOURCES.pdbs, CACHE_TRANSFORMS.pdb, CACHE_INDEXERS.pdb);
  manager.addInformer("mlautoscalepolicies", policies);
  manager.addInformer("deployments", deployments);
  manager.addInformer("statefulsets", statefulSets);
  manager.addInformer("horizontalpodautoscalers", hpas);
  manager.addInformer("poddisruptionbudgets", pdbs);

  let keda: (KedaCaches & { stop: () => Promise<void> }) | undefined;
  /** KEDA's caches between their start and their first sync, and what policies are told meanwhile. */
  let kedaSyncing: { caches: KedaCaches & { stop: () => Promise<void> }; message: string } | undefined;
  let externalMetricsState: ApiServiceState | undefined;
  let kubernetes: KubernetesFeatures | undefined;

  registerPolicyGauge(options.metrics.registry, policies.store);
  const reconciler = new PolicyReconciler({
    caches: {
      policies: policies.store,
      deployments: deployments.store,
      statefulSets: statefulSets.store,
      hpas: hpas.store,
      pdbs: pdbs.store,
      keda: () => keda,
      kedaCachesSyncing: () => kedaSyncing?.message,
      kedaAvailability: () => kedaAvailability(keda !== undefined, externalMetricsState),
      externalMetricsApi: () => externalMetricsApi(externalMetricsState),
      kubernetesFeatures: () => kubernetes,
    },
    writer: restPolicyWriter(options.applier, rest),
    events: options.events,
    ...(options.allowedTriggerEndpoints !== undefined && {
      allowedTriggerEndpoints: options.allowedTriggerEndpoints,
    }),
    ...(options.propagateLabels !== undefined && { propagateLabels: options.propagateLabels }),
  });

  policies.addEventHandler({ onUpdate: (_previous, policy) => reconciler.policyCached(policy) });
  // Once a cache shows a child (or its deletion), the reconciler lets go of the create it remembers.
  const childCached = { onAdd: reconciler.childCached, onDelete: reconciler.childCached };
  deployments.addEventHandler(childCached);
  hpas.addEventHandler(childCached);
  pdbs.addEventHandler(childCached);

  const controller = new Controller({
    name: CONTROLLER_NAME,
    reconciler: reconciler.reconcile,
    workers: options.workers,
    resyncPeriodMs: options.resyncPeriodMs,
    logger,
    metrics: options.metrics.controller(CONTROLLER_NAME),
    queueMetrics: options.metrics.workQueue(CONTROLLER_NAME),
  });
  // A policy whose latest generation has not been reconciled (a new one, a changed one) goes ahead of
  // the reconciles its children's status changes cause: in a roll-out of many policies, every policy's
  // children are written before any policy's status is brought up to date.
  controller.watchPrimary(
    policies,
    specOrMetadataChanged,
    (policy) => policy.status?.observedGeneration !== policy.metadata?.generation,
  );
  controller.watchMapped(
    deployments,
    (d) =>
      unique([
        ...owningPolicy(d),
        ...policiesTargeting(policies, d.metadata?.namespace ?? "", {
          kind: "Deployment",
          ...(d.metadata?.name !== undefined && { name: d.metadata.name }),
        }),
      ]),
    workloadChanged,
  );
  controller.watchMapped(
    statefulSets,
    (s) =>
      policiesTargeting(policies, s.metadata?.namespace ?? "", {
        kind: "StatefulSet",
        ...(s.metadata?.name !== undefined && { name: s.metadata.name }),
      }),
    workloadChanged,
  );
  // HPAs: the policy's own, KEDA's for the policy's ScaledObject, and foreign ones on the same target.
  controller.watchMapped(
    hpas,
    (h) =>
      unique([
        ...owningPolicy(h),
        ...policiesTargeting(policies, h.metadata?.namespace ?? "", h.spec?.scaleTargetRef),
      ]),
    hpaChanged,
  );
  // A PDB of no policy's may cover a policy's pods (which makes the policy create none of its own):
  // its events wake the policies of its namespace.
  controller.watchMapped(
    pdbs,
    (pdb) => {
      const owner = owningPolicy(pdb);
      if (owner.length > 0 || controllerOf(pdb)?.kind === KIND) return owner;
      const namespace = pdb.metadata?.namespace ?? "";
      return policies.store.list(namespace).map((p) => ({ namespace, name: p.metadata?.name ?? "" }));
    },
    pdbChanged,
  );
  manager.addController(controller);

  const enqueueAll = (): void => {
    for (const key of policies.store.keys()) controller.queue.add(key);
  };

  const discovery = new DiscoveryWatcher({
    lookup: restKindLookup(rest),
    apiVersion: KEDA_API_VERSION,
    kind: "ScaledObject",
    intervalMs: options.kedaDiscoveryIntervalMs,
    logger,
    onChange: async (served) => {
      if (served && keda === undefined && kedaSyncing === undefined) {
        const scaledObjects = informer<ScaledObject>(
          RESOURCES.scaledObjects,
          CACHE_TRANSFORMS.scaledObject,
          CACHE_INDEXERS.autoscaler,
        );
        const triggerAuthentications = informer<TriggerAuthentication>(
          RESOURCES.triggerAuthentications,
          CACHE_TRANSFORMS.triggerAuthentication,
        );
        manager.addInformer("scaledobjects", scaledObjects, { startWithManager: false });
        manager.addInformer("triggerauthentications", triggerAuthentications, { startWithManager: false });
        const unsubscribe = [
          controller.watchMapped(
            scaledObjects,
            (so) =>
              unique([
                ...owningPolicy(so),
                ...policiesTargeting(policies, so.metadata?.namespace ?? "", {
                  kind: so.spec.scaleTargetRef.kind ?? "Deployment",
                  name: so.spec.scaleTargetRef.name,
                }),
              ]),
            scaledObjectChanged,
          ),
          controller.watchMapped(triggerAuthentications, owningPolicy),
          scaledObjects.addEventHandler(childCached),
          triggerAuthentications.addEventHandler(childCached),
        ];
        scaledObjects.start();
        triggerAuthentications.start();
        const caches = {
          scaledObjects: scaledObjects.store,
          triggerAuthentications: triggerAuthentications.store,
          stop: async () => {
            for (const u of unsubscribe) u();
            await Promise.all([scaledObjects.stop(), triggerAuthentications.stop()]);
          },
        };
        const promote = (): void => {
          if (kedaSyncing?.caches !== caches) return;
          kedaSyncing = undefined;
          keda = caches;
          logger.info("KEDA's CRDs are installed: ScaledObject and TriggerAuthentication caches running");
          enqueueAll();
        };
        kedaSyncing = {
          caches,
          message: `KEDA's ScaledObject and TriggerAuthentication caches have not synced (see the operator's log)`,
        };
        const synced = Promise.all([scaledObjects.waitForSync(), triggerAuthentications.waitForSync()]);
        // Bounded: a list of ScaledObjects that keeps failing must not keep the operator from starting.
        // Until the caches sync, policies wait (no engine is chosen without knowing KEDA's objects).
        const deadlineMs = options.kedaSyncDeadlineMs ?? KEDA_SYNC_DEADLINE_MS;
        const deadline = new AbortController();
        const inTime = await Promise.race([
          synced.then(() => true),
          sleep(systemClock, deadlineMs, deadline.signal).then(() => false),
        ]);
        deadline.abort();
        if (!inTime) {
          logger.error(
            { deadlineMs },
            "KEDA's caches have not synced in time; policies wait for them, and /readyz says which cache",
          );
          void synced.then(promote, () => undefined);
          return;
        }
        promote();
      } else if (!served && kedaSyncing !== undefined) {
        const stopping = kedaSyncing.caches;
        kedaSyncing = undefined;
        await stopping.stop();
      } else if (!served && keda !== undefined) {
        const stopping = keda;
        keda = undefined;
        await stopping.stop();
        logger.info("KEDA's CRDs are gone: policies fall back to the HPA where they can");
        enqueueAll();
      }
    },
  });
  const externalMetrics = watchApiService({
    rest,
    name: EXTERNAL_METRICS_API_SERVICE,
    intervalMs: options.kedaDiscoveryIntervalMs,
    logger,
    onChange: (state) => {
      const before = kedaAvailability(keda !== undefined, externalMetricsState).state;
      externalMetricsState = state;
      const after = kedaAvailability(keda !== undefined, externalMetricsState).state;
      if (before !== after) logger.info({ keda: after }, "KEDA availability changed");
      enqueueAll();
    },
  });
  // Read before the controllers start, and again after an upgrade: every policy is then built again for it.
  const serverVersion = watchServerVersion({
    rest,
    logger,
    onChange: (version) => {
      kubernetes = kubernetesFeatures(version, version.gitVersion);
      if (isSupportedKubernetes(version)) {
        logger.info({ kubernetes }, "the API server's version decides what the children may hold");
      } else {
        const oldest = `${OLDEST_SUPPORTED_KUBERNETES.major}.${OLDEST_SUPPORTED_KUBERNETES.minor}`;
        logger.error(
          { kubernetes },
          `Kubernetes ${version.gitVersion} is older than ${oldest}, the oldest supported`,
        );
      }
      enqueueAll();
    },
  });
  return { controller, discovery, externalMetrics, serverVersion };
}

/**
 * mlautoscale_policies{engine,ready}: counted from the policies' cache at each scrape (a collect
 * function, as kube-state-metrics does), so it cannot drift from what is there.
 */
export function registerPolicyGauge(registry: Registry, policies: ReadonlyStore<PolicyObject>): void {
  new Gauge({
    name: "mlautoscale_policies",
    help: "MLAutoscalePolicies by engine in use and Ready condition status",
    labelNames: ["engine", "ready"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const policy of policies.list()) {
        this.inc({
          engine: policy.status?.engine ?? "None",
          ready: policy.status?.conditions?.find((c) => c.type === ConditionType.Ready)?.status ?? "Unknown",
        });
      }
    },
  });
}
