// The broker clients (src/brokers) against real brokers, each started here on loopback: RabbitMQ from
// Debian's package (with its own epmd), kfake from the build cache, and the project's SQS endpoint.
// Then the workload emulator (dev/emulator) as the harness runs it, against the integration API server.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { connect as amqpConnect } from "amqplib";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSqsServer, type SqsServer } from "../../dev/brokers/sqs-server.js";
import { startKafka, startRabbitMq, type RabbitMqAddon } from "../../dev/controlplane/addons/brokers.js";
import type { AddonContext } from "../../dev/controlplane/addons/context.js";
import { binaryLocator, repoRoot } from "../../dev/controlplane/binaries.js";
import { Components } from "../../dev/controlplane/components.js";
import { freePorts, releasePorts } from "../../dev/controlplane/net.js";
import {
  BrokerError,
  createKafkaClient,
  createRabbitMqClient,
  createSqsClient,
  type MessageBody,
} from "../../src/brokers/index.js";
import {
  createTestNamespace,
  deleteTestNamespace,
  testKubeConfig,
  testKubeconfigPath,
} from "../support/cluster.js";

const unique = (prefix: string): string => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;

async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A port nothing listens on: chosen free, then released. */
async function closedPort(): Promise<number> {
  const [port] = await freePorts(1);
  releasePorts([port ?? 0]);
  return port ?? 1;
}

let dir: string;
let components: Components;
let rabbit: RabbitMqAddon;
let kafkaBrokers: string | undefined;
let sqs: SqsServer;
const kfake = binaryLocator().find("kfake");

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mlautoscale-brokers-"));
  components = new Components(dir, () => undefined, 120_000);
  // Only what startRabbitMq and startKafka read of an add-on's context.
  const used: Pick<AddonContext, "dir" | "components" | "locator" | "log"> = {
    dir,
    components,
    locator: binaryLocator(),
    log: () => undefined,
  };
  const context = used as AddonContext;
  [rabbit, sqs] = await Promise.all([startRabbitMq(context), startSqsServer()]);
  if (kfake) kafkaBrokers = (await startKafka(context)).brokers;
});

afterAll(async () => {
  await sqs?.close();
  await components?.stopAll(["kafka", "rabbitmq", "epmd"]);
  if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
});

describe("RabbitMQ client", () => {
  it("declares a missing queue durable, publishes with confirms, counts ready messages and consumes them", async () => {
    const queueName = unique("jobs");
    const client = await createRabbitMqClient({ url: rabbit.amqpUrl, queueName });
    try {
      expect(client.description).toMatch(new RegExp(`^RabbitMQ queue ${queueName} at 127\\.0\\.0\\.1:\\d+$`));
      expect(await client.depth()).toBe(0);
      await client.publish(25);
      expect(await client.depth()).toBe(25);
      expect(await client.consume(10)).toBe(10);
      expect(await client.depth()).toBe(15);
      expect(await client.consume(100)).toBe(15);
      expect(await client.depth()).toBe(0);
      expect(await client.consume(5)).toBe(0);
    } finally {
      await client.close();
    }
    const model = await amqpConnect(rabbit.amqpUrl);
    try {
      const channel = await model.createChannel();
      // Durable, and still there after the client closed.
      await expect(channel.assertQueue(queueName, { durable: true })).resolves.toMatchObject({
        messageCount: 0,
      });
    } finally {
      await model.close();
    }
  });

  it("uses an existing queue as it is, publishes JSON bodies, and never deletes the queue", async () => {
    const queueName = unique("existing");
    const model = await amqpConnect(rabbit.amqpUrl);
    try {
      const channel = await model.createChannel();
      // Declared differently from what the client would declare: it must not try to redeclare it.
      await channel.assertQueue(queueName, { durable: false, arguments: { "x-max-length": 1000 } });
      const client = await createRabbitMqClient({ url: rabbit.amqpUrl, queueName });
      await client.publish(2);
      await client.close();
      const message = await channel.get(queueName, { noAck: true });
      expect(message).not.toBe(false);
      const body = JSON.parse(message === false ? "{}" : message.content.toString()) as MessageBody;
      expect(body).toMatchObject({ seq: 1, publisher: "mlautoscale" });
      expect(Number.isNaN(Date.parse(body.publishedAt))).toBe(false);
      expect((await channel.checkQueue(queueName)).messageCount).toBe(1);
    } finally {
      await model.close();
    }
  });

  it("names the broker and its address when it cannot connect", async () => {
    const port = await closedPort();
    const error = await createRabbitMqClient({
      url: `amqp://guest:secret@127.0.0.1:${port}/`,
      queueName: "q",
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BrokerError);
    expect((error as BrokerError).broker).toBe("RabbitMQ");
    expect((error as Error).message).toContain(`RabbitMQ queue q at 127.0.0.1:${port}: connect failed`);
    expect((error as Error).message).not.toContain("secret");
  });
});

describe("SQS client", () => {
  const credentials = { accessKeyId: "test", secretAccessKey: "test" };
  const queueUrl = (name: string): string => `https://sqs.us-east-1.amazonaws.com/123456789012/${name}`;

  it("refuses a missing queue unless told to create it", async () => {
    const name = unique("training-jobs");
    const options = { queueUrl: queueUrl(name), region: "us-east-1", endpoint: sqs.endpoint, credentials };
    const error = await createSqsClient(options).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BrokerError);
    expect((error as Error).message).toContain(`SQS queue ${name} at ${sqs.endpoint}`);
    expect(sqs.queueNames()).not.toContain(name);
    const client = await createSqsClient({ ...options, createIfMissing: true });
    await client.close();
    expect(sqs.queueNames()).toContain(name);
  });

  it("publishes in batches, counts visible and in-flight messages, and consumes by deleting", async () => {
    const name = unique("training-jobs");
    const client = await createSqsClient({
      queueUrl: queueUrl(name),
      region: "us-east-1",
      endpoint: sqs.endpoint,
      credentials,
      createIfMissing: true,
    });
    try {
      await client.publish(25);
      expect(await client.depth()).toBe(25);
      expect(await client.consume(13)).toBe(13);
      expect(await client.depth()).toBe(12);
      expect(sqs.queueDepth(name)).toEqual({ visible: 12, inFlight: 0, delayed: 0 });
      // A message another reader holds is still work, as KEDA counts it (scaleOnInFlight).
      const reader = new SQSClient({ region: "us-east-1", endpoint: sqs.endpoint, credentials });
      await reader.send(new ReceiveMessageCommand({ QueueUrl: queueUrl(name), MaxNumberOfMessages: 2 }));
      reader.destroy();
      expect(await client.depth()).toBe(12);
      expect(await client.consume(100)).toBe(10);
      expect(await client.depth()).toBe(2);
    } finally {
      await client.close();
    }
    expect(sqs.queueNames()).toContain(name);
  });

  it("names the broker and the endpoint when the endpoint is down", async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const error = await createSqsClient({
      queueUrl: queueUrl("q"),
      region: "us-east-1",
      endpoint,
      credentials,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BrokerError);
    expect((error as BrokerError).broker).toBe("SQS");
    expect((error as Error).message).toContain(`SQS queue q at ${endpoint}`);
  });
});

describe.skipIf(!kfake)(
  kfake ? "Kafka client" : "Kafka client (skipped: kfake is not built; run scripts/controlplane/build.sh)",
  () => {
    const brokers = (): string[] => [kafkaBrokers ?? ""];
    const groupOffsets = async (groupId: string, topic: string): Promise<number[]> => {
      const admin = new Kafka({ brokers: brokers(), logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return (entry?.partitions ?? [])
          .sort((a, b) => a.partition - b.partition)
          .map((p) => Number(p.offset));
      } finally {
        await admin.disconnect();
      }
    };

    it("creates the topic and commits the group's start offsets, so that its lag can be read", async () => {
      const topic = unique("ml-jobs");
      const group = unique("workers");
      const client = await createKafkaClient({
        brokers: brokers(),
        topic,
        consumerGroup: group,
        partitions: 3,
      });
      try {
        expect(client.description).toBe(`Kafka topic ${topic} (group ${group}) at ${kafkaBrokers}`);
        expect(await groupOffsets(group, topic)).toEqual([0, 0, 0]);
        await client.publish(30);
        expect(await client.depth()).toBe(30);
        expect(await client.consume(9)).toBe(9);
        expect(await client.depth()).toBe(21);
        const committed = await groupOffsets(group, topic);
        expect(committed.reduce((a, b) => a + b, 0)).toBe(9);
        // Even shares while every partition has lag.
        expect(Math.max(...committed) - Math.min(...committed)).toBeLessThanOrEqual(1);
        expect(await client.consume(100)).toBe(21);
        expect(await client.depth()).toBe(0);
      } finally {
        await client.close();
      }
      const again = await createKafkaClient({ brokers: brokers(), topic, consumerGroup: group });
      try {
        await again.publish(4);
        expect(await again.depth()).toBe(4);
      } finally {
        await again.close();
      }
    });

    it("leaves the offsets of a group with running consumers alone", async () => {
      const topic = unique("busy");
      const group = unique("live-workers");
      const client = await createKafkaClient({ brokers: brokers(), topic, consumerGroup: group });
      const member = new Kafka({ brokers: brokers(), logLevel: logLevel.NOTHING }).consumer({
        groupId: group,
      });
      try {
        await client.publish(3);
        await member.connect();
        await member.subscribe({ topics: [topic], fromBeginning: true });
        await member.run({ autoCommit: false, eachMessage: () => Promise.resolve() });
        await eventually("the member to join", async () => {
          const admin = new Kafka({ brokers: brokers(), logLevel: logLevel.NOTHING }).admin();
          await admin.connect();
          const { groups } = await admin.describeGroups([group]).finally(() => admin.disconnect());
          return groups[0]?.state === "Stable" ? true : undefined;
        });
        const error = await client.consume(1).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(BrokerError);
        expect((error as Error).message).toMatch(/^Kafka topic .* running consumers/);
      } finally {
        await member.disconnect();
        await client.close();
      }
    });

    it("names the broker and its address when it cannot connect", async () => {
      const address = `127.0.0.1:${await closedPort()}`;
      const error = await createKafkaClient({ brokers: [address], topic: "t", consumerGroup: "g" }).catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(BrokerError);
      expect((error as Error).message).toContain(`Kafka topic t (group g) at ${address}: connect failed`);
    });
  },
);

describe("the workload emulator", () => {
  let namespace: string;
  let emulator: ChildProcess;
  let url: string;
  let output = "";
  const queueName = unique("emulated-jobs");
  const sqsQueueUrl = `https://sqs.us-east-1.amazonaws.com/123456789012/${unique("emulated-training")}`;
  const kafkaTopic = unique("emulated-stream");
  const core = (): CoreV1Api => testKubeConfig().makeApiClient(CoreV1Api);

  const template = {
    image: "registry.example.com/worker:1",
    model: { loadSeconds: 5 },
    resources: { requests: { cpu: "2", memory: "4Gi" } },
    gpu: { count: 1 },
  };

  async function createPolicy(name: string, scaling: Record<string, unknown>, min = 1): Promise<void> {
    await testKubeConfig()
      .makeApiClient(CustomObjectsApi)
      .createNamespacedCustomObject({
        group: "mlautoscale.io",
        version: "v1alpha1",
        namespace,
        plural: "mlautoscalepolicies",
        body: {
          apiVersion: "mlautoscale.io/v1alpha1",
          kind: "MLAutoscalePolicy",
          metadata: { name },
          spec: { workload: { template }, replicas: { min, max: 4 }, scaling },
        },
      });
  }

  /** A pod of the policy, Running and Ready as KWOK would make it (no kubelet runs in integration). */
  async function createReadyPod(policy: string, name: string): Promise<void> {
    await core().createNamespacedPod({
      namespace,
      body: {
        metadata: { name, labels: { "mlautoscale.io/policy": policy } },
        spec: {
          containers: [
            {
              name: "server",
              image: template.image,
              resources: {
                requests: { cpu: "2", memory: "4Gi", "nvidia.com/gpu": "1" },
                limits: { "nvidia.com/gpu": "1" },
              },
            },
          ],
        },
      },
    });
    const now = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    await core().patchNamespacedPodStatus(
      {
        namespace,
        name,
        body: {
          status: {
            phase: "Running",
            startTime: now,
            conditions: [{ type: "Ready", status: "True", lastTransitionTime: now }],
          },
        },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  }

  async function api(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> {
    const response = await fetch(`${url}${path}`, {
      method,
      ...(body !== undefined && {
        body: JSON.stringify(body),
        headers: { "Content-Type": "application/json" },
      }),
    });
    const text = await response.text();
    return {
      status: response.status,
      json: text.startsWith("{") || text.startsWith("[") ? JSON.parse(text) : text,
    };
  }

  /** The workload's state once it has served `count`: the cycle that took the last message may still run. */
  const stateOnceServed = (name: string, count: number): Promise<unknown> =>
    eventually(`${name} to have served ${count}`, async () => {
      const { json } = await api("GET", `/v1/workloads/${namespace}/${name}`);
      return (json as { served?: number }).served === count ? json : undefined;
    });

  const metrics = async (): Promise<string> => (await fetch(`${url}/metrics`)).text();

  beforeAll(async () => {
    namespace = await createTestNamespace("emulator");
    await createPolicy(
      "batch",
      { triggers: [{ type: "rabbitmq", metadata: { queueName, mode: "QueueLength", value: "5" } }] },
      0,
    );
    await createPolicy("web", {
      engine: "HPA",
      metrics: {
        external: [
          { metricName: "requests_per_second", selector: { service: "web-ml" }, targetAverageValue: 100 },
        ],
      },
    });
    await createPolicy(
      "train",
      {
        triggers: [
          {
            type: "aws-sqs-queue",
            metadata: { queueURL: sqsQueueUrl, awsRegion: "us-east-1", queueLength: "2" },
          },
        ],
      },
      0,
    );
    if (kafkaBrokers) {
      await createPolicy(
        "stream",
        {
          triggers: [
            {
              type: "kafka",
              metadata: {
                bootstrapServers: "kafka:9092",
                consumerGroup: "stream-workers",
                topic: kafkaTopic,
                lagThreshold: "5",
              },
            },
          ],
        },
        0,
      );
      await createReadyPod("stream", "stream-0");
    }
    await createReadyPod("train", "train-0");
    await createReadyPod("batch", "batch-0");
    await createReadyPod("web", "web-0");
    await createReadyPod("web", "web-1");
    const [port] = await freePorts(1);
    url = `http://127.0.0.1:${port}`;
    emulator = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(repoRoot, "dev", "emulator", "main.ts"),
        `--kubeconfig=${testKubeconfigPath()}`,
        `--port=${port}`,
        `--rabbitmq-url=${rabbit.amqpUrl}`,
        `--sqs-endpoint=${sqs.endpoint}`,
        ...(kafkaBrokers ? [`--kafka-brokers=${kafkaBrokers}`] : []),
        "--tick-ms=200",
      ],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
    );
    emulator.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    emulator.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await eventually(
      "the emulator's /healthz",
      async () => ((await fetch(`${url}/healthz`)).ok ? true : undefined),
      60_000,
    );
  });

  afterAll(async () => {
    if (emulator && emulator.exitCode === null) {
      emulator.kill("SIGKILL");
    }
    if (namespace) await deleteTestNamespace(namespace);
  });

  it("consumes a policy's RabbitMQ queue at the Ready pods' rate and says so", async () => {
    const client = await createRabbitMqClient({ url: rabbit.amqpUrl, queueName });
    try {
      await client.publish(30);
      await eventually("the queue to drain", async () => ((await client.depth()) === 0 ? true : undefined));
    } finally {
      await client.close();
    }
    expect(await stateOnceServed("batch", 30)).toMatchObject({
      source: { type: "rabbitmq", queueName, status: "connected" },
      readyPods: 1,
      parameters: { serviceRatePerReplica: 10 },
    });
    expect(output).toContain("source connected");
  });

  it("consumes an SQS queue, which it creates on its local endpoint", async () => {
    const client = await eventually("the emulator to create the queue", () =>
      createSqsClient({
        queueUrl: sqsQueueUrl,
        region: "us-east-1",
        endpoint: sqs.endpoint,
        credentials: { accessKeyId: "test", secretAccessKey: "test" },
      }),
    );
    try {
      await client.publish(12);
      await eventually("the queue to drain", async () => ((await client.depth()) === 0 ? true : undefined));
    } finally {
      await client.close();
    }
    expect(await stateOnceServed("train", 12)).toMatchObject({
      source: { type: "aws-sqs-queue", status: "connected" },
    });
  });

  it.skipIf(!kfake)("consumes a Kafka topic by committing the group's offsets", async () => {
    const client = await eventually("the emulator to create the topic", async () => {
      const state = (await api("GET", `/v1/workloads/${namespace}/stream`)).json as {
        source: { status: string };
      };
      return state.source.status === "connected"
        ? createKafkaClient({
            brokers: [kafkaBrokers ?? ""],
            topic: kafkaTopic,
            consumerGroup: "stream-workers",
          })
        : undefined;
    });
    try {
      await client.publish(20);
      await eventually("the lag to reach 0", async () => ((await client.depth()) === 0 ? true : undefined));
    } finally {
      await client.close();
    }
    expect(await stateOnceServed("stream", 20)).toMatchObject({
      source: { type: "kafka", topic: kafkaTopic, partitions: 4, status: "connected" },
    });
  });

  it("publishes per-pod series with the external metric's selector labels, one GPU series per GPU", async () => {
    expect((await api("PUT", `/v1/workloads/${namespace}/web/load`, { rps: 8 })).status).toBe(200);
    const text = await eventually("the load to show", async () => {
      const body = await metrics();
      return body.includes(`requests_per_second{namespace="${namespace}",pod="web-0",service="web-ml"} 4`)
        ? body
        : undefined;
    });
    expect(text).toContain(`requests_per_second{namespace="${namespace}",pod="web-1",service="web-ml"} 4`);
    expect(text).toMatch(
      new RegExp(`DCGM_FI_DEV_GPU_UTIL\\{namespace="${namespace}",pod="web-0",gpu="0"\\} 40\\b`),
    );
    expect(text).toContain(`inference_queue_depth{namespace="${namespace}",pod="batch-0"}`);
  });

  it("writes the CPU and memory usage KWOK reports on the pods", async () => {
    const annotations = await eventually("usage annotations", async () => {
      const pod = await core().readNamespacedPod({ namespace, name: "web-0" });
      const found = pod.metadata?.annotations ?? {};
      return found["kwok.x-k8s.io/usage-cpu"] === "840m" ? found : undefined;
    });
    // 2 % idle + 40 % busy of 2 CPUs; 60 % of 4Gi.
    expect(annotations["kwok.x-k8s.io/usage-memory"]).toBe("2458Mi");
  });

  it("answers the API: arrivals, overrides, bad input and unknown workloads", async () => {
    expect((await api("POST", `/v1/workloads/${namespace}/web/arrivals`, { count: 50 })).status).toBe(200);
    const configured = await api("PUT", `/v1/workloads/${namespace}/web`, { serviceRatePerReplica: 20 });
    expect(configured).toMatchObject({ status: 200, json: { parameters: { serviceRatePerReplica: 20 } } });
    expect(
      (await api("PUT", `/v1/workloads/${namespace}/web`, { serviceRatePerReplica: -1 })).json,
    ).toMatchObject({
      error: expect.stringContaining("serviceRatePerReplica") as unknown,
    });
    expect((await api("PUT", `/v1/workloads/${namespace}/web`, { serviceRatePerReplica: -1 })).status).toBe(
      400,
    );
    expect((await api("PUT", `/v1/workloads/${namespace}/nope/load`, { rps: 1 })).status).toBe(404);
    expect((await api("POST", `/v1/workloads/${namespace}/batch/arrivals`, { count: 1 })).status).toBe(409);
    const list = (await api("GET", "/v1/workloads")).json as Array<{ namespace: string; name: string }>;
    expect(list.filter((entry) => entry.namespace === namespace).map((entry) => entry.name)).toEqual([
      "batch",
      ...(kafkaBrokers ? ["stream"] : []),
      "train",
      "web",
    ]);
  });

  it("keeps running while a broker is down, says so, and reconnects when it is back", async () => {
    await components.stop("rabbitmq");
    await eventually("the source to fail", async () => {
      const { json } = await api("GET", `/v1/workloads/${namespace}/batch`);
      return (json as { source: { status: string } }).source.status === "failing" ? true : undefined;
    });
    expect(output).toContain("source failing; retrying");
    expect((await api("GET", "/v1/workloads")).status).toBe(200);
    await components.restart("rabbitmq");
    await eventually(
      "the source to reconnect",
      async () => {
        const { json } = await api("GET", `/v1/workloads/${namespace}/batch`);
        return (json as { source: { status: string } }).source.status === "connected" ? true : undefined;
      },
      90_000,
    );
  });

  it("stops cleanly on SIGTERM", async () => {
    expect(emulator.exitCode).toBeNull();
    const exited = new Promise<number | null>((resolve) => emulator.once("exit", (code) => resolve(code)));
    emulator.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
