import { describe, expect, it } from "vitest";
import { deepFreeze, mutableCopy, type DeepReadonly, type KubeObject } from "../../../src/runtime/object.js";
import { controllerOf, controllerOwnerReference, isControlledBy } from "../../../src/runtime/ownerref.js";
import { OWNER_INDEX, Store } from "../../../src/runtime/store.js";

const owner: KubeObject = {
  apiVersion: "example.io/v1",
  kind: "Widget",
  metadata: { namespace: "team", name: "owner", uid: "owner-uid" },
};

function child(
  name: string,
  namespace = "team",
  ownerObject?: KubeObject,
  labels?: Record<string, string>,
): DeepReadonly<KubeObject> {
  return deepFreeze<KubeObject>({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      namespace,
      name,
      labels,
      ownerReferences: ownerObject ? [controllerOwnerReference(ownerObject)] : [],
    },
  });
}

describe("Store", () => {
  it("gets by namespace/name and lists by namespace", () => {
    const store = new Store<KubeObject>();
    store.upsert(child("a"));
    store.upsert(child("b"));
    store.upsert(child("a", "other"));
    expect(store.get("team", "a")?.metadata?.namespace).toBe("team");
    expect(store.get("other", "a")?.metadata?.namespace).toBe("other");
    expect(store.get("team", "missing")).toBeUndefined();
    expect(
      store
        .list("team")
        .map((object) => object.metadata?.name)
        .sort(),
    ).toEqual(["a", "b"]);
    expect(store.list()).toHaveLength(3);
    expect(store.keys().sort()).toEqual(["other/a", "team/a", "team/b"]);
  });

  it("indexes objects by their controller owner's UID and keeps the index current", () => {
    const store = new Store<KubeObject>();
    store.upsert(child("owned-1", "team", owner));
    store.upsert(child("owned-2", "team", owner));
    store.upsert(child("orphan"));
    expect(
      store
        .byIndex(OWNER_INDEX, "owner-uid")
        .map((object) => object.metadata?.name)
        .sort(),
    ).toEqual(["owned-1", "owned-2"]);
    // Losing the owner reference moves the object out of the index.
    store.upsert(child("owned-1"));
    expect(store.byIndex(OWNER_INDEX, "owner-uid").map((object) => object.metadata?.name)).toEqual([
      "owned-2",
    ]);
    store.remove("team/owned-2");
    expect(store.byIndex(OWNER_INDEX, "owner-uid")).toEqual([]);
  });

  it("keeps an index value right as the objects filed under it go from one to several and back", () => {
    const store = new Store<KubeObject>();
    const owned = () =>
      store
        .byIndex(OWNER_INDEX, "owner-uid")
        .map((object) => object.metadata?.name)
        .sort();
    store.upsert(child("a", "team", owner));
    store.upsert(child("a", "team", owner));
    expect(owned()).toEqual(["a"]);
    store.upsert(child("b", "team", owner));
    store.upsert(child("c", "team", owner));
    expect(owned()).toEqual(["a", "b", "c"]);
    store.remove("team/a");
    store.remove("team/c");
    expect(owned()).toEqual(["b"]);
    store.upsert(child("b", "team", owner));
    expect(owned()).toEqual(["b"]);
    store.upsert(child("d", "team", owner));
    expect(owned()).toEqual(["b", "d"]);
    store.remove("team/b");
    store.remove("team/d");
    expect(owned()).toEqual([]);
    store.upsert(child("e", "team", owner));
    expect(owned()).toEqual(["e"]);
  });

  it("supports custom indexers and rejects unknown index names", () => {
    const store = new Store<KubeObject>({ app: (object) => [object.metadata?.labels?.app ?? ""] });
    store.upsert(child("a", "team", undefined, { app: "llm" }));
    store.upsert(child("b", "team", undefined, { app: "vision" }));
    expect(store.byIndex("app", "llm").map((object) => object.metadata?.name)).toEqual(["a"]);
    expect(() => store.byIndex("nope", "x")).toThrow(/no index/);
  });

  it("hands out frozen objects that cannot be mutated, and mutable copies on request", () => {
    const store = new Store<KubeObject>();
    store.upsert(child("a", "team", undefined, { app: "llm" }));
    const cached = store.get("team", "a");
    if (!cached) throw new Error("missing");
    const labels = cached.metadata?.labels as Record<string, string>;
    expect(() => {
      labels.app = "changed";
    }).toThrow(TypeError);
    const copy = mutableCopy<KubeObject>(cached);
    if (copy.metadata?.labels) copy.metadata.labels.app = "changed";
    expect(store.get("team", "a")?.metadata?.labels?.app).toBe("llm");
  });
});

describe("owner references", () => {
  it("builds a controller reference that blocks owner deletion", () => {
    expect(controllerOwnerReference(owner)).toEqual({
      apiVersion: "example.io/v1",
      kind: "Widget",
      name: "owner",
      uid: "owner-uid",
      controller: true,
      blockOwnerDeletion: true,
    });
    expect(() => controllerOwnerReference({ kind: "Widget", metadata: { name: "x" } })).toThrow();
  });

  it("finds the controller reference among several and matches owners by UID", () => {
    const object: KubeObject = {
      metadata: {
        name: "x",
        ownerReferences: [
          { apiVersion: "v1", kind: "ConfigMap", name: "cm", uid: "cm-uid" },
          controllerOwnerReference(owner),
        ],
      },
    };
    expect(controllerOf(object)?.uid).toBe("owner-uid");
    expect(isControlledBy(object, owner)).toBe(true);
    const sameNameNewObject: KubeObject = { ...owner, metadata: { ...owner.metadata, uid: "recreated" } };
    expect(isControlledBy(object, sameNameNewObject)).toBe(false);
    expect(controllerOf({ metadata: { name: "y" } })).toBeUndefined();
  });
});
