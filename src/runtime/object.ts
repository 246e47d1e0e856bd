/**
 * The few object fields the runtime reads. Kinds are otherwise opaque to it; any Kubernetes object
 * type (client-node's models, zod-inferred custom resources, plain JSON) fits.
 */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: { [key: string]: string };
  annotations?: { [key: string]: string };
  ownerReferences?: OwnerReference[];
  /** When the server created the object (a string in JSON, a Date in client-node's models). */
  creationTimestamp?: unknown;
  /** Set once deletion has been requested (a string in JSON, a Date in client-node's models). */
  deletionTimestamp?: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/** The identity of one object: the work item of a controller. */
export interface ObjectKey {
  namespace: string;
  name: string;
}

/** Readonly all the way down: what the cache hands out. */
export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends ReadonlyArray<infer Element>
    ? ReadonlyArray<DeepReadonly<Element>>
    : T extends object
      ? { readonly [Property in keyof T]: DeepReadonly<T[Property]> }
      : T;

/** "namespace/name", or "name" for cluster-scoped objects (client-go `MetaNamespaceKeyFunc`). */
export function keyString(key: ObjectKey): string {
  return key.namespace ? `${key.namespace}/${key.name}` : key.name;
}

export function parseKey(key: string): ObjectKey {
  const slash = key.indexOf("/");
  return slash < 0
    ? { namespace: "", name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export function keyOf(object: {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
}): ObjectKey {
  return { namespace: object.metadata?.namespace ?? "", name: object.metadata?.name ?? "" };
}

/** Freezes an object graph in place and returns it typed as deeply read-only. */
export function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value as DeepReadonly<T>;
}

/** A mutable copy of a cached object, for a reconciler that wants to edit it. */
export function mutableCopy<T>(value: DeepReadonly<T>): T {
  return structuredClone(value) as T;
}

/** A metav1.Time: RFC 3339 in UTC with whole seconds, as the API server writes it. */
export function metaTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}
