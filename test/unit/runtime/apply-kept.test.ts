// A field the API server drops (one behind a feature gate that is off, such as an HPA's
// behavior.*.tolerance before it was on by default) must not make the write-skip check see a change on
// every reconcile: the Applier remembers what the server kept of the last apply. Against a loopback server
// that answers as such an API server would.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Applier } from "../../../src/runtime/apply.js";
import { KubeRestClient } from "../../../src/runtime/rest.js";
import { kubeConfigFor, LoopbackServer } from "../../support/loopback.js";

/** Answers discovery for autoscaling/v2, and applies as a server without the tolerance field would. */
class DroppingServer extends LoopbackServer {
  applies = 0;

  constructor() {
    super((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        response.setHeader("Content-Type", "application/json");
        if (request.method === "GET") {
          response.end(
            JSON.stringify({
              kind: "APIResourceList",
              resources: [
                { name: "horizontalpodautoscalers", kind: "HorizontalPodAutoscaler", namespaced: true },
              ],
            }),
          );
          return;
        }
        this.applies++;
        const sent = JSON.parse(body) as {
          metadata: Record<string, unknown>;
          spec: { behavior?: { scaleUp?: { tolerance?: number } } };
        };
        delete sent.spec.behavior?.scaleUp?.tolerance;
        response.end(JSON.stringify({ ...sent, metadata: { ...sent.metadata, uid: "hpa-uid" } }));
      });
    });
  }
}

function hpa(tolerance: number, maxReplicas = 10) {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: "model", namespace: "ml" },
    spec: {
      maxReplicas,
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "model" },
      behavior: { scaleUp: { stabilizationWindowSeconds: 0, tolerance } },
    },
  };
}

describe("Applier.applyIfChanged with a field the server drops", () => {
  let server: DroppingServer;
  let applier: Applier;

  beforeEach(async () => {
    server = new DroppingServer();
    applier = new Applier(new KubeRestClient(kubeConfigFor(await server.start())), { fieldManager: "test" });
  });
  afterEach(async () => {
    await server.stop();
  });

  /** The server's answer to a first apply. */
  async function created(desired: ReturnType<typeof hpa>): Promise<ReturnType<typeof hpa>> {
    const outcome = await applier.applyIfChanged(desired, undefined);
    if (!outcome.written) throw new Error("nothing was written");
    return outcome.object;
  }

  it("writes once, then skips while the live object is as the server kept it", async () => {
    // The cache then shows what the server answered: no tolerance.
    const live = await created(hpa(0.05));
    for (let round = 0; round < 3; round++) {
      expect((await applier.applyIfChanged(hpa(0.05), live)).written).toBe(false);
    }
    expect(server.applies).toBe(1);
  });

  it("still writes a real change: another desired object, or the live object changed elsewhere", async () => {
    const live = await created(hpa(0.05));
    expect((await applier.applyIfChanged(hpa(0.1), live)).written).toBe(true);
    const kept = await created(hpa(0.05));
    const edited = { ...kept, spec: { ...kept.spec, maxReplicas: 3 } };
    expect((await applier.applyIfChanged(hpa(0.05), edited)).written).toBe(true);
    expect(server.applies).toBe(4);
  });
});
