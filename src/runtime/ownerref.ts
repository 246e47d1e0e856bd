import type { DeepReadonly, KubeObject, OwnerReference } from "./object.js";

type ReadableObject = KubeObject | DeepReadonly<KubeObject>;

/**
 * The owner reference a controller puts on each child it creates (controller-runtime
 * `controllerutil.SetControllerReference`): garbage collection deletes the child with its owner, and
 * blockOwnerDeletion keeps a foreground deletion of the owner waiting for it.
 */
export function controllerOwnerReference(owner: ReadableObject): OwnerReference {
  const { apiVersion, kind } = owner;
  const name = owner.metadata?.name;
  const uid = owner.metadata?.uid;
  if (!apiVersion || !kind || !name || !uid) {
    throw new Error("an owner needs apiVersion, kind, metadata.name and metadata.uid");
  }
  return { apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true };
}

/** The controller owner reference of `object`, if any. */
export function controllerOf(object: ReadableObject): DeepReadonly<OwnerReference> | undefined {
  const references: ReadonlyArray<DeepReadonly<OwnerReference>> = object.metadata?.ownerReferences ?? [];
  return references.find((reference) => reference.controller === true);
}

/** True when `owner` is the controller of `object` (matched by UID, as garbage collection does). */
export function isControlledBy(object: ReadableObject, owner: ReadableObject): boolean {
  const uid = owner.metadata?.uid;
  return uid !== undefined && controllerOf(object)?.uid === uid;
}

/** The group of an apiVersion ("apps/v1" -> "apps", "v1" -> ""). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}
