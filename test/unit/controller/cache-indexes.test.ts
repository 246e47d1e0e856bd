import { describe, expect, it } from "vitest";
import {
  autoscalerScaleTargetIndex,
  foreignPdbIndex,
  scaleTargetKey,
} from "../../../src/controllers/mlautoscalepolicy/scale-target.js";

const deploymentKey = (name: string) => scaleTargetKey({ namespace: "ml", kind: "Deployment", name });

describe("the autoscalers' index by workload", () => {
  it("files an HPA under the workload its scaleTargetRef names", () => {
    const hpa = {
      metadata: { namespace: "ml", name: "any" },
      spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "StatefulSet", name: "llm" } },
    };
    expect(autoscalerScaleTargetIndex(hpa)).toEqual([
      scaleTargetKey({ namespace: "ml", kind: "StatefulSet", name: "llm" }),
    ]);
  });

  it("reads a ScaledObject's target without a kind as a Deployment, as KEDA does", () => {
    const scaledObject = {
      metadata: { namespace: "ml", name: "x" },
      spec: { scaleTargetRef: { name: "llm" } },
    };
    expect(autoscalerScaleTargetIndex(scaledObject)).toEqual([deploymentKey("llm")]);
  });

  it("files an autoscaler without a target nowhere", () => {
    expect(autoscalerScaleTargetIndex({ metadata: { namespace: "ml", name: "x" }, spec: {} })).toEqual([]);
  });
});

describe("the index of PDBs no policy controls", () => {
  const owner = (kind: string, controller: boolean) => ({
    apiVersion: "v1",
    kind,
    name: "o",
    uid: "u",
    controller,
  });

  it("leaves out a policy's own PDB", () => {
    const pdb = {
      metadata: { namespace: "ml", name: "p", ownerReferences: [owner("MLAutoscalePolicy", true)] },
    };
    expect(foreignPdbIndex(pdb)).toEqual([]);
  });

  it("files every other PDB under its namespace", () => {
    expect(foreignPdbIndex({ metadata: { namespace: "ml", name: "hand-written" } })).toEqual(["ml"]);
    const ownedByAnother = {
      metadata: { namespace: "ml", name: "p", ownerReferences: [owner("Other", true)] },
    };
    expect(foreignPdbIndex(ownedByAnother)).toEqual(["ml"]);
    // an owner reference that is not the controller does not make it the policy's
    const notController = {
      metadata: { namespace: "ml", name: "p", ownerReferences: [owner("MLAutoscalePolicy", false)] },
    };
    expect(foreignPdbIndex(notController)).toEqual(["ml"]);
  });
});
