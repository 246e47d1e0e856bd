// Strings of cached objects go through one bounded table; the objects themselves are unchanged.
import { describe, expect, it } from "vitest";
import { internStrings, StringTable } from "../../../src/runtime/intern.js";

const deployment = (name: string) => ({
  metadata: {
    name,
    labels: { "app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "mlautoscale" },
    ownerReferences: [{ kind: "MLAutoscalePolicy", name, uid: "85c2f6af-0209-4641-a7d4-4b9d8ff0a997" }],
  },
  spec: {
    replicas: 1,
    template: {
      spec: {
        containers: [
          { image: "registry.example.com/ml/model-server:1.0.0", args: ["--model", "llama-3.1-8b-instruct"] },
        ],
      },
    },
  },
});

describe("interning the strings of an object from the server", () => {
  it("leaves its content as it was, arrays and nested objects included", () => {
    const table = new StringTable();
    const object = JSON.parse(JSON.stringify(deployment("llama-chat-policy"))) as unknown;
    expect(internStrings(object, table)).toEqual(deployment("llama-chat-policy"));
  });

  it("keeps each distinct string once, however many objects and places hold it", () => {
    const table = new StringTable();
    for (const name of ["policy-number-1", "policy-number-2", "policy-number-1"]) {
      internStrings(JSON.parse(JSON.stringify(deployment(name))) as unknown, table);
    }
    // The two names, "mlautoscale", "MLAutoscalePolicy", the uid, the image and the model; "--model" is
    // too short to count.
    expect(table.size).toBe(7);
  });

  it("skips short strings, which JSON.parse already shares, and very long ones", () => {
    const table = new StringTable();
    internStrings({ a: "short", b: "x".repeat(10_000), c: ["tiny"] }, table);
    expect(table.size).toBe(0);
  });

  it("starts the table again when it is full, so that strings nothing holds are not kept forever", () => {
    const table = new StringTable(3);
    for (const value of ["first-string-1", "first-string-2", "first-string-3"]) table.intern(value);
    expect(table.size).toBe(3);
    expect(table.intern("fourth-string")).toBe("fourth-string");
    expect(table.size).toBe(1);
  });

  it("leaves frozen objects, already in a cache, untouched", () => {
    const table = new StringTable();
    const frozen = Object.freeze({ name: "a-frozen-object-name" });
    expect(internStrings({ spec: frozen }, table)).toEqual({ spec: { name: "a-frozen-object-name" } });
    expect(table.size).toBe(0);
  });
});
