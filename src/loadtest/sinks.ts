// Where a load test sends its arrivals: a broker queue (through src/brokers, which loads each broker's
// library only when asked) or the local cluster's workload emulator. Neither ever takes a message.
import {
  BrokerError,
  createKafkaClient,
  createRabbitMqClient,
  createSqsClient,
  type QueueClient,
} from "../brokers/index.js";
import { errorMessage } from "../runtime/errors.js";
import { LoadtestError, type LoadSource } from "./target.js";

/** Sends and measures; has no way to consume, so a load test cannot delete what it did not publish. */
export interface LoadSink {
  /** What and where, never with credentials: "RabbitMQ queue jobs at 127.0.0.1:5672". */
  readonly description: string;
  /** Sends `count` messages (or requests) and resolves once all were accepted. */
  publish(count: number): Promise<void>;
  /** Messages waiting (the broker's depth as KEDA counts it), or the emulator's queue. */
  depth(): Promise<number>;
  close(): Promise<void>;
}

export type ConnectSink = (source: LoadSource, namespace: string, name: string) => Promise<LoadSink>;

/** Without consume(): what loadtest holds of a QueueClient. */
function publishOnly(client: QueueClient): LoadSink {
  return {
    description: client.description,
    publish: (count) => client.publish(count),
    depth: () => client.depth(),
    close: () => client.close(),
  };
}

function isLoopback(endpoint: string): boolean {
  try {
    const host = new URL(endpoint).hostname;
    return host === "localhost" || host === "[::1]" || host === "::1" || /^127\./.test(host);
  } catch {
    return false;
  }
}

/** Removes a URL's user and password from `text`, wherever they appear. */
export function redact(text: string, url: string | undefined): string {
  if (url === undefined) return text;
  let out = text.split(url).join("[redacted URL]");
  try {
    const parsed = new URL(url);
    for (const secret of [parsed.password, decodeURIComponent(parsed.password), parsed.username]) {
      if (secret.length >= 3) out = out.split(secret).join("***");
    }
  } catch {
    // Not a URL: nothing more to find.
  }
  return out;
}

/** The broker's client for a source, connected, or a LoadtestError naming the broker and its address. */
export const connectBroker: ConnectSink = async (source) => {
  try {
    switch (source.kind) {
      case "rabbitmq":
        return publishOnly(await createRabbitMqClient({ url: source.url, queueName: source.queueName }));
      case "sqs":
        return publishOnly(
          await createSqsClient({
            queueUrl: source.queueUrl,
            region: source.region,
            ...(source.endpoint !== undefined && { endpoint: source.endpoint }),
            // A local endpoint (the local cluster's) takes any credentials; elsewhere the SDK's chain decides.
            ...(source.endpoint !== undefined &&
              isLoopback(source.endpoint) && {
                credentials: { accessKeyId: "local", secretAccessKey: "local" },
              }),
          }),
        );
      case "kafka":
        return publishOnly(
          await createKafkaClient({
            brokers: source.brokers,
            topic: source.topic,
            consumerGroup: source.consumerGroup,
          }),
        );
      case "http":
        throw new LoadtestError("HTTP load goes to the emulator, not to a broker");
    }
  } catch (error) {
    if (error instanceof LoadtestError) throw error;
    const secretUrl = source.kind === "rabbitmq" ? source.url : undefined;
    const message = redact(errorMessage(error), secretUrl);
    throw new LoadtestError(
      error instanceof BrokerError ? `cannot reach ${message}` : `cannot reach the broker: ${message}`,
      { cause: error },
    );
  }
};

/** The emulator's view of a workload: what loadtest reads of GET /v1/workloads/{ns}/{name}. */
export interface EmulatorWorkload {
  queue: number;
  served: number;
  readyPods: number;
  source: { type: string; description?: string };
  parameters?: { serviceRatePerReplica?: number; serverConcurrency?: number };
}

type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

/** The workload emulator's HTTP API for one workload. */
export class EmulatorClient {
  constructor(
    readonly url: string,
    readonly namespace: string,
    readonly name: string,
    private readonly fetchImpl: Fetch = (input, init) => fetch(input, init),
  ) {}

  private get path(): string {
    return `${this.url}/v1/workloads/${encodeURIComponent(this.namespace)}/${encodeURIComponent(this.name)}`;
  }

  private async call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    let response: Response;
    try {
      response = await this.fetchImpl(path, {
        method,
        signal: AbortSignal.timeout(10_000),
        ...(body !== undefined && {
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
      });
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      throw new LoadtestError(
        `cannot reach the workload emulator at ${this.url}: ${errorMessage(cause ?? error)}`,
        { cause: error },
      );
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text.trim() === "" ? undefined : (JSON.parse(text) as unknown);
    } catch {
      // Not JSON: keep the text for the message.
    }
    return { status: response.status, body: parsed };
  }

  private failure(what: string, answer: { status: number; body: unknown }): LoadtestError {
    const body = answer.body;
    const detail =
      typeof body === "string"
        ? body
        : typeof body === "object" && body !== null && "error" in body && typeof body.error === "string"
          ? body.error
          : JSON.stringify(body ?? "");
    return new LoadtestError(
      `the workload emulator at ${this.url}: ${what}: HTTP ${answer.status}${detail ? `: ${detail.trim()}` : ""}`,
    );
  }

  /** The workload, or undefined when the emulator does not know it (404). */
  async workload(): Promise<EmulatorWorkload | undefined> {
    const answer = await this.call("GET", this.path);
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) throw this.failure(`GET workload ${this.namespace}/${this.name}`, answer);
    return answer.body as EmulatorWorkload;
  }

  async arrive(count: number): Promise<void> {
    const answer = await this.call("POST", `${this.path}/arrivals`, { count });
    if (answer.status !== 200) throw this.failure(`POST ${count} arrivals`, answer);
  }
}

/** What a load test uses of the emulator's API. */
export type EmulatorApi = Pick<EmulatorClient, "url" | "namespace" | "name" | "workload" | "arrive">;

/** HTTP-style load: each batch is POSTed to the emulator, which queues it in front of the pods. */
export async function connectEmulator(client: EmulatorApi): Promise<LoadSink> {
  const workload = await client.workload();
  const key = `${client.namespace}/${client.name}`;
  if (workload === undefined) {
    throw new LoadtestError(
      `the workload emulator at ${client.url} does not emulate ${key}: it emulates the policies of the local ` +
        "cluster it runs in (not those with a targetRef); is this the cluster the kubeconfig points at?",
    );
  }
  if (workload.source.type !== "http") {
    throw new LoadtestError(
      `the workload emulator feeds ${key} from ${workload.source.description ?? workload.source.type}: ` +
        "send the load there (--source rabbitmq|sqs|kafka) rather than over HTTP",
    );
  }
  return {
    description: `HTTP requests to the workload emulator at ${client.url} (${key})`,
    publish: (count) => client.arrive(count),
    depth: async () => (await client.workload())?.queue ?? 0,
    close: () => Promise.resolve(),
  };
}
