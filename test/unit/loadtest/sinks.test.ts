import { describe, expect, it } from "vitest";
import { connectEmulator, EmulatorClient, redact } from "../../../src/loadtest/sinks.js";

/** The emulator's API for one workload, in memory. */
function fakeEmulator(workload: Record<string, unknown> | undefined, status = 200) {
  const calls: { method: string; url: string; body?: unknown }[] = [];
  let queue = 0;
  const fetchImpl = (url: string, init?: RequestInit): Promise<Response> => {
    const method = init?.method ?? "GET";
    const body = typeof init?.body === "string" ? (JSON.parse(init.body) as { count: number }) : undefined;
    calls.push({ method, url, ...(body !== undefined && { body }) });
    if (workload === undefined)
      return Promise.resolve(
        new Response(JSON.stringify({ error: "no emulated workload" }), { status: 404 }),
      );
    if (status !== 200)
      return Promise.resolve(new Response(JSON.stringify({ error: "conflict" }), { status }));
    if (method === "POST" && body) queue += body.count;
    return Promise.resolve(new Response(JSON.stringify({ ...workload, queue }), { status: 200 }));
  };
  return { calls, client: new EmulatorClient("http://127.0.0.1:9000", "ml", "svc", fetchImpl) };
}

describe("HTTP-style load through the workload emulator", () => {
  it("POSTs each batch as arrivals and reads the workload's queue", async () => {
    const { calls, client } = fakeEmulator({ source: { type: "http" }, served: 0, readyPods: 1 });
    const sink = await connectEmulator(client);
    expect(sink.description).toBe("HTTP requests to the workload emulator at http://127.0.0.1:9000 (ml/svc)");
    await sink.publish(7);
    expect(await sink.depth()).toBe(7);
    expect(calls.map((call) => [call.method, call.url, call.body])).toEqual([
      ["GET", "http://127.0.0.1:9000/v1/workloads/ml/svc", undefined],
      ["POST", "http://127.0.0.1:9000/v1/workloads/ml/svc/arrivals", { count: 7 }],
      ["GET", "http://127.0.0.1:9000/v1/workloads/ml/svc", undefined],
    ]);
  });

  it("refuses a workload the emulator does not know, or feeds from a broker", async () => {
    await expect(connectEmulator(fakeEmulator(undefined).client)).rejects.toThrow(
      /the workload emulator at http:\/\/127.0.0.1:9000 does not emulate ml\/svc/,
    );
    await expect(
      connectEmulator(
        fakeEmulator({ source: { type: "rabbitmq", description: "RabbitMQ queue q at h:5672" } }).client,
      ),
    ).rejects.toThrow(
      "the workload emulator feeds ml/svc from RabbitMQ queue q at h:5672: send the load there (--source rabbitmq|sqs|kafka) rather than over HTTP",
    );
  });

  it("names the emulator when it cannot be reached, or refuses the arrivals", async () => {
    const down = new EmulatorClient("http://127.0.0.1:9", "ml", "svc", () =>
      Promise.reject(new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:9") })),
    );
    await expect(down.workload()).rejects.toThrow(
      "cannot reach the workload emulator at http://127.0.0.1:9: connect ECONNREFUSED 127.0.0.1:9",
    );
    const refusing = fakeEmulator({ source: { type: "http" } }, 409).client;
    await expect(refusing.arrive(3)).rejects.toThrow(
      "the workload emulator at http://127.0.0.1:9000: POST 3 arrivals: HTTP 409: conflict",
    );
  });
});

describe("messages about brokers", () => {
  it("never carry the URL's credentials", () => {
    const url = "amqp://loadtester:s3cr%21t@rabbit.example:5672/prod";
    expect(redact(`connect to ${url} failed`, url)).toBe("connect to [redacted URL] failed");
    expect(redact("user loadtester, password s3cr!t refused", url)).toBe("user ***, password *** refused");
    expect(redact("anything", undefined)).toBe("anything");
  });
});
