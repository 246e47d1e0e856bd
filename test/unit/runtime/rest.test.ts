import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FencedWriteError, WriteFence } from "../../../src/runtime/fence.js";
import { KubeRestClient } from "../../../src/runtime/rest.js";
import { kubeConfigFor, LoopbackServer } from "../../support/loopback.js";

/** A loopback HTTP server that records requests and answers them, or holds them while `hold` says so. */
class RecordingServer extends LoopbackServer {
  readonly requests: Array<{ method: string; path: string }> = [];
  closedWhileHeld = 0;
  hold: (method: string) => boolean = () => false;

  constructor() {
    super((request, response) => {
      this.requests.push({ method: request.method ?? "", path: request.url ?? "" });
      request.resume();
      if (this.hold(request.method ?? "")) {
        response.on("close", () => this.closedWhileHeld++);
        return;
      }
      response.setHeader("Content-Type", "application/json");
      if (request.url?.includes("/missing") === true) response.statusCode = 404;
      response.end(JSON.stringify({ kind: "Status", ok: true }));
    });
  }
}

describe("KubeRestClient", () => {
  let server: RecordingServer;
  let address: string;

  beforeEach(async () => {
    server = new RecordingServer();
    address = await server.start();
  });
  afterEach(async () => {
    await server.stop();
  });

  it("sends no write while its fence is closed; reads and the lease's own writes still go out", async () => {
    const fence = new WriteFence();
    const rest = new KubeRestClient(kubeConfigFor(address), { fence });
    await expect(rest.request("POST", "/api/v1/namespaces/a/events", { body: {} })).rejects.toBeInstanceOf(
      FencedWriteError,
    );
    await rest.request("GET", "/api/v1/namespaces/a/configmaps");
    await rest.request("PUT", "/apis/coordination.k8s.io/v1/namespaces/a/leases/l", {
      body: {},
      unfenced: true,
    });
    fence.open();
    await rest.request("PATCH", "/apis/apps/v1/namespaces/a/deployments/d", { body: {} });
    fence.close("lost the lease");
    await expect(rest.request("DELETE", "/apis/apps/v1/namespaces/a/deployments/d")).rejects.toThrow(
      /write refused: lost the lease/,
    );
    expect(server.requests.map((r) => r.method)).toEqual(["GET", "PUT", "PATCH"]);
  });

  it("aborts a write in flight the moment the fence closes", async () => {
    const fence = new WriteFence();
    fence.open();
    const rest = new KubeRestClient(kubeConfigFor(address), { fence });
    server.hold = (method) => method === "PATCH";
    const write = rest.request("PATCH", "/apis/apps/v1/namespaces/a/deployments/d", { body: {} });
    await vi.waitFor(() => expect(server.requests).toHaveLength(1));
    fence.close("lost the lease");
    await expect(write).rejects.toBeInstanceOf(FencedWriteError);
    await vi.waitFor(() => expect(server.closedWhileHeld).toBe(1));
  });

  it("gives up on a request that hangs past its deadline", async () => {
    const rest = new KubeRestClient(kubeConfigFor(address), { requestTimeoutMs: 200 });
    server.hold = () => true;
    await expect(rest.request("GET", "/api/v1/namespaces")).rejects.toThrow(/timeout|timed out|aborted/i);
    await vi.waitFor(() => expect(server.closedWhileHeld).toBe(1));
  });

  it("reuses one connection for requests in sequence", async () => {
    const rest = new KubeRestClient(kubeConfigFor(address));
    for (let i = 0; i < 5; i++) await rest.request("GET", "/api/v1/namespaces");
    expect(server.requests).toHaveLength(5);
    expect(server.connections).toBe(1);
  });

  it("reports each request as kube-apiserver counts it: verb, resource and code", async () => {
    const done: string[] = [];
    const rest = new KubeRestClient(kubeConfigFor(address), {
      requestTimeoutMs: 200,
      metrics: { requestDone: (verb, resource, code) => done.push(`${verb} ${resource} ${code}`) },
    });
    await rest.request("GET", "/apis/apps/v1/namespaces/a/deployments");
    await rest.request("GET", "/apis/apps/v1/namespaces/a/deployments/d");
    await rest.request("PATCH", "/apis/mlautoscale.io/v1alpha1/namespaces/a/mlautoscalepolicies/p/status", {
      body: {},
      contentType: "application/apply-patch+yaml",
    });
    await rest.request("POST", "/api/v1/namespaces/a/events", { body: {} });
    await expect(rest.request("GET", "/api/v1/namespaces/a/pods/missing")).rejects.toThrow();
    await rest.request("GET", "/version");
    server.hold = () => true;
    await expect(
      rest.request("DELETE", "/apis/policy/v1/namespaces/a/poddisruptionbudgets/b"),
    ).rejects.toThrow();
    expect(done).toEqual([
      "LIST deployments.apps 200",
      "GET deployments.apps 200",
      "APPLY mlautoscalepolicies.mlautoscale.io/status 200",
      "POST events 200",
      "GET pods 404",
      // /version names no resource and is not counted; a request without an answer is "<error>".
      "DELETE poddisruptionbudgets.policy <error>",
    ]);
  });
});
