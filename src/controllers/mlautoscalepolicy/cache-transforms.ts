// What each informer keeps of an object: what the reconciler reads (the same fields as the update filters
// in controller.ts) and what write-skip compares, and nothing else. Objects the caches hold are most of
// the operator's memory, so each kind drops its bookkeeping as it enters the cache (controller-runtime's
// cache transforms do the same).
import { keepWritersOf, stripManagedFields } from "../../runtime/informer.js";
import type { JsonObject } from "../../runtime/rest.js";
import { KIND } from "../../api/v1alpha1/index.js";

type Transform = (object: JsonObject) => JsonObject;

/** kubectl's client-side apply keeps the whole manifest again in this annotation; nothing reads it. */
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function withoutLastApplied(object: JsonObject): JsonObject {
  const metadata = object["metadata"];
  if (
    !isRecord(metadata) ||
    !isRecord(metadata["annotations"]) ||
    !(LAST_APPLIED in metadata["annotations"])
  ) {
    return object;
  }
  const { [LAST_APPLIED]: _dropped, ...annotations } = metadata["annotations"];
  return { ...object, metadata: { ...metadata, annotations } };
}

/** `status` reduced to `fields`, or removed when `fields` is empty. */
function keepStatus(fields: readonly string[], conditionTypes?: readonly string[]): Transform {
  return (object) => {
    const { status, ...rest } = object;
    if (!isRecord(status) || fields.length === 0) return rest;
    const kept: Record<string, unknown> = {};
    for (const field of fields) if (status[field] !== undefined) kept[field] = status[field];
    if (conditionTypes !== undefined && Array.isArray(kept["conditions"])) {
      kept["conditions"] = kept["conditions"].filter(
        (condition: unknown) =>
          isRecord(condition) &&
          typeof condition["type"] === "string" &&
          conditionTypes.includes(condition["type"]),
      );
    }
    return { ...rest, status: kept };
  };
}

function pipe(...transforms: Transform[]): Transform {
  return (object) => transforms.reduce((current, transform) => transform(current), object);
}

/** Whether a policy controls the object (its controller owner reference is an MLAutoscalePolicy). */
function controlledByPolicy(object: JsonObject): boolean {
  const metadata = object["metadata"];
  const references = isRecord(metadata) ? metadata["ownerReferences"] : undefined;
  return (
    Array.isArray(references) &&
    references.some(
      (reference: unknown) =>
        isRecord(reference) && reference["controller"] === true && reference["kind"] === KIND,
    )
  );
}

/**
 * Of a workload no policy controls (a targetRef target, or any other Deployment or StatefulSet in a
 * watched namespace), the pod spec: only its labels are read (for a PDB's selector), and nothing is
 * applied to it, so there is nothing to compare.
 */
function withoutForeignPodSpec(object: JsonObject): JsonObject {
  const spec = object["spec"];
  if (controlledByPolicy(object) || !isRecord(spec) || !isRecord(spec["template"])) return object;
  const template = spec["template"];
  const metadata = isRecord(template["metadata"]) ? template["metadata"] : undefined;
  const labels = metadata?.["labels"];
  return {
    ...object,
    spec: { ...spec, template: labels === undefined ? {} : { metadata: { labels } } },
  };
}

/** Set by the Deployment controller on every Deployment; nothing reads it. */
const REVISION = "deployment.kubernetes.io/revision";

function without(record: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(record)) if (!fields.includes(field)) kept[field] = value;
  return kept;
}

function probeWithoutDefaults(probe: unknown): unknown {
  if (!isRecord(probe)) return probe;
  const httpGet = probe["httpGet"];
  const trimmed = without(probe, ["successThreshold"]);
  return isRecord(httpGet) ? { ...trimmed, httpGet: without(httpGet, ["scheme"]) } : trimmed;
}

function containerWithoutDefaults(container: unknown): unknown {
  if (!isRecord(container)) return container;
  const trimmed = without(container, [
    "terminationMessagePath",
    "terminationMessagePolicy",
    "imagePullPolicy",
  ]);
  for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
    if (probe in trimmed) trimmed[probe] = probeWithoutDefaults(trimmed[probe]);
  }
  return trimmed;
}

/**
 * Of a policy's own Deployment, the fields the API server defaults and the operator never sets
 * (apps/v1 and core/v1 SetDefaults_*: revisionHistoryLimit, the pod's dnsPolicy, restartPolicy,
 * schedulerName and securityContext, each container's termination message and pull policy, each
 * probe's successThreshold and HTTP scheme) and the Deployment controller's revision annotation.
 * Write-skip compares only what the desired object sets, so these never count; the write-skip tests
 * render every example to check that the desired Deployment sets none of them.
 */
function withoutServerDefaults(object: JsonObject): JsonObject {
  const { metadata, spec } = object;
  if (!controlledByPolicy(object) || !isRecord(spec) || !isRecord(spec["template"])) return object;
  const template = spec["template"];
  const podSpec = template["spec"];
  const annotations = isRecord(metadata) ? metadata["annotations"] : undefined;
  return {
    ...object,
    ...(isRecord(metadata) &&
      isRecord(annotations) &&
      REVISION in annotations && {
        metadata: { ...metadata, annotations: without(annotations, [REVISION]) },
      }),
    spec: {
      ...without(spec, ["revisionHistoryLimit"]),
      template: isRecord(podSpec)
        ? {
            ...template,
            spec: {
              ...without(podSpec, ["dnsPolicy", "restartPolicy", "schedulerName", "securityContext"]),
              ...(Array.isArray(podSpec["containers"]) && {
                containers: podSpec["containers"].map(containerWithoutDefaults),
              }),
            },
          }
        : template,
    },
  };
}

/** What the caches keep of each kind. */
export const CACHE_TRANSFORMS = {
  policy: pipe(stripManagedFields, withoutLastApplied),
  workload: pipe(
    keepWritersOf(["spec", "replicas"]),
    withoutLastApplied,
    withoutForeignPodSpec,
    withoutServerDefaults,
    keepStatus(["replicas", "readyReplicas", "availableReplicas"]),
  ),
  hpa: pipe(
    stripManagedFields,
    withoutLastApplied,
    keepStatus(["desiredReplicas", "lastScaleTime", "conditions"], ["ScalingActive"]),
  ),
  pdb: pipe(stripManagedFields, withoutLastApplied, keepStatus([])),
  scaledObject: pipe(stripManagedFields, withoutLastApplied, keepStatus(["conditions", "health"])),
  triggerAuthentication: pipe(stripManagedFields, withoutLastApplied, keepStatus([])),
} satisfies Record<string, Transform>;
