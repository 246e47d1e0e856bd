import { describe, expect, it } from "vitest";
import {
  applyDifferences,
  canonicalJson,
  contentHash,
  differingPaths,
  needsApply,
  valueAt,
  withApplyHash,
} from "../../../src/runtime/compare.js";
import { parseQuantity, quantitiesEqual } from "../../../src/runtime/quantity.js";

describe("quantities", () => {
  it.each([
    ["1000m", "1"],
    ["1", 1],
    ["0.5", "500m"],
    ["1Gi", "1073741824"],
    ["1k", "1000"],
    ["1e3", "1k"],
    ["1E", "1e18"],
    ["2.5Gi", "2560Mi"],
    ["100n", "0.0000001"],
  ])("%s equals %s", (left, right) => {
    expect(quantitiesEqual(left, right)).toBe(true);
  });

  it.each([
    ["1", "2"],
    ["1Gi", "1G"],
    ["500m", "5"],
    ["abc", "abc"],
    ["1Gb", "1Gi"],
  ])("%s differs from %s", (left, right) => {
    expect(quantitiesEqual(left, right)).toBe(false);
  });

  it("rejects text that is not a quantity", () => {
    expect(parseQuantity("10%")).toBeUndefined();
    expect(parseQuantity("")).toBeUndefined();
    expect(parseQuantity("-1.5")).toEqual({ numerator: -15n, denominator: 10n });
  });
});

describe("applyDifferences / needsApply", () => {
  const live = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: "a",
      namespace: "n",
      resourceVersion: "42",
      labels: { app: "x", extra: "by-someone-else" },
    },
    spec: {
      replicas: 2,
      progressDeadlineSeconds: 600,
      template: {
        spec: {
          containers: [
            {
              name: "server",
              image: "model:1",
              resources: { limits: { cpu: "1", memory: "1Gi", "nvidia.com/gpu": "1" } },
              terminationMessagePath: "/dev/termination-log",
            },
          ],
          dnsPolicy: "ClusterFirst",
        },
      },
    },
    status: { replicas: 2 },
  };

  it("ignores fields the desired object does not set and server defaults", () => {
    const desired = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "a", namespace: "n", labels: { app: "x" } },
      spec: {
        replicas: 2,
        template: {
          spec: {
            containers: [
              {
                name: "server",
                image: "model:1",
                resources: { limits: { cpu: "1000m", memory: "1024Mi", "nvidia.com/gpu": 1 } },
              },
            ],
          },
        },
      },
    };
    expect(applyDifferences(desired, live)).toEqual([]);
    expect(needsApply(desired, live)).toBe(false);
  });

  it("reports each changed field by path", () => {
    const desired = {
      metadata: { labels: { app: "y" } },
      spec: { replicas: 3, template: { spec: { containers: [{ name: "server", image: "model:2" }] } } },
    };
    expect(applyDifferences(desired, live)).toEqual([
      "metadata.labels.app",
      "spec.replicas",
      "spec.template.spec.containers[0].image",
    ]);
  });

  it("gives each path as keys and indexes, which valueAt reads back, dotted keys included", () => {
    const desired = {
      metadata: { annotations: { "mlautoscale.io/spec-hash": "b" } },
      spec: { template: { spec: { containers: [{ name: "server", image: "model:2" }] } } },
    };
    const live = {
      metadata: { annotations: { "mlautoscale.io/spec-hash": "a" } },
      spec: { template: { spec: { containers: [{ name: "server", image: "model:1" }] } } },
    };
    const paths = differingPaths(desired, live);
    expect(paths).toEqual([
      ["metadata", "annotations", "mlautoscale.io/spec-hash"],
      ["spec", "template", "spec", "containers", 0, "image"],
    ]);
    expect(paths.map((path) => valueAt(live, path))).toEqual(["a", "model:1"]);
    expect(valueAt(live, ["spec", "missing", 3])).toBeUndefined();
  });

  it("treats a different list length as a change", () => {
    const desired = {
      spec: { template: { spec: { containers: [{ name: "server" }, { name: "sidecar" }] } } },
    };
    expect(applyDifferences(desired, live)).toEqual(["spec.template.spec.containers"]);
  });

  it("treats a desired zero value as equal to a field the server omitted", () => {
    const desired = {
      spec: { paused: false, minReadySeconds: 0, template: { metadata: { annotations: {} } } },
    };
    expect(needsApply(desired, live)).toBe(false);
    expect(needsApply({ spec: { paused: true } }, live)).toBe(true);
  });

  it("always needs an apply when there is no live object", () => {
    expect(needsApply({ metadata: { name: "a" } }, undefined)).toBe(true);
  });
});

describe("withApplyHash", () => {
  it("stamps a hash that changes with the content, including removed fields", () => {
    const key = "example.io/applied-hash";
    interface Stampable {
      metadata: { name: string; annotations: Record<string, string> };
      spec: Record<string, unknown>;
    }
    const base: Stampable = {
      metadata: { name: "a", annotations: { keep: "me" } },
      spec: { replicas: 2, paused: true },
    };
    const stamped = withApplyHash(base, key);
    const again = withApplyHash<Stampable>(
      { spec: { paused: true, replicas: 2 }, metadata: { annotations: { keep: "me" }, name: "a" } },
      key,
    );
    expect(stamped.metadata.annotations[key]).toMatch(/^[0-9a-f]{16}$/);
    expect(again.metadata.annotations[key]).toBe(stamped.metadata.annotations[key]);
    expect(stamped.metadata.annotations.keep).toBe("me");
    expect(base.metadata.annotations).toEqual({ keep: "me" });
    const withoutPaused = withApplyHash<Stampable>(
      { metadata: { name: "a", annotations: { keep: "me" } }, spec: { replicas: 2 } },
      key,
    );
    expect(withoutPaused.metadata.annotations[key]).not.toBe(stamped.metadata.annotations[key]);
    // A live object stamped with the old hash now differs even though every remaining field matches.
    expect(needsApply(withoutPaused, stamped)).toBe(true);
    expect(needsApply(stamped, stamped)).toBe(false);
  });

  it("serialises canonically regardless of key order", () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
  });

  it("keeps the serialisation and hash that live objects were stamped with", () => {
    // Hashes are stored on live objects: any change here would make every child differ and be rewritten.
    const value = {
      b: [1, "x", null, undefined, { z: true, a: { 'q"k': 1.5 } }],
      a: undefined,
      é: "ü\n",
      c: {},
      d: [],
      e: 0,
      f: "",
    };
    expect(canonicalJson(value)).toBe(
      '{"b":[1,"x",null,null,{"a":{"q\\"k":1.5},"z":true}],"c":{},"d":[],"e":0,"f":"","é":"ü\\n"}',
    );
    expect(contentHash(value)).toBe("a287386dc7e29041");
  });

  it("leaves the desired object as it was, its annotations included", () => {
    const desired = { metadata: { name: "a", annotations: { keep: "me" } }, spec: { replicas: 2 } };
    const stamped = withApplyHash(desired, "example.io/applied-hash");
    expect(desired).toEqual({ metadata: { name: "a", annotations: { keep: "me" } }, spec: { replicas: 2 } });
    expect(Object.keys(stamped.metadata.annotations).sort()).toEqual(["example.io/applied-hash", "keep"]);
  });
});
