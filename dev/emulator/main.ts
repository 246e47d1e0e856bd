// The workload emulator: plays the model servers and queue workers that the local cluster's KWOK pods
// do not run. dev/controlplane/addons/emulator.ts starts it with the local cluster; its HTTP API is in
// http.ts and what it models in model.ts.
//
//   node --import tsx dev/emulator/main.ts --kubeconfig=PATH --port=PORT [--rabbitmq-url=URL]
//        [--sqs-endpoint=URL] [--kafka-brokers=HOST:PORT[,HOST:PORT]] [--tick-ms=1000]
import { parseArgs } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { KubeRestClient } from "../../src/runtime/rest.js";
import { Emulator } from "./emulator.js";
import { serveEmulator } from "./http.js";
import { brokerConnector, describeSource, type BrokerEndpoints } from "./sources.js";

const USAGE =
  "usage: main.ts --kubeconfig=PATH --port=PORT [--rabbitmq-url=URL] [--sqs-endpoint=URL] " +
  "[--kafka-brokers=HOST:PORT[,...]] [--tick-ms=1000]";

function fail(message: string): never {
  process.stderr.write(`workload emulator: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function wholeNumber(flag: string, text: string | undefined, fallback?: number): number {
  if (text === undefined) return fallback ?? fail(`--${flag} is required`);
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) fail(`--${flag}: expected a whole number, got ${text}`);
  return value;
}

async function main(): Promise<void> {
  // The AWS SDK warns, over several lines of stderr, that its releases after January 2027 will need
  // Node 22: not news to act on in a log of one line per event.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        kubeconfig: { type: "string" },
        port: { type: "string" },
        "rabbitmq-url": { type: "string" },
        "sqs-endpoint": { type: "string" },
        "kafka-brokers": { type: "string" },
        "tick-ms": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const kubeconfig = values.kubeconfig ?? fail("--kubeconfig is required");
  const port = wholeNumber("port", values.port);
  const tickMs = wholeNumber("tick-ms", values["tick-ms"], 1000);
  if (tickMs < 10) fail("--tick-ms must be at least 10");

  const sqsEndpoint = values["sqs-endpoint"];
  const endpoints: BrokerEndpoints = {
    ...(values["rabbitmq-url"] !== undefined && { rabbitmqUrl: values["rabbitmq-url"] }),
    ...(sqsEndpoint !== undefined && { sqsEndpoint }),
    // A local endpoint takes any signature; without credentials in the environment the SDK's chain
    // would fail before sending anything.
    ...(sqsEndpoint !== undefined &&
      process.env.AWS_ACCESS_KEY_ID === undefined && {
        sqsCredentials: { accessKeyId: "emulator", secretAccessKey: "emulator" },
      }),
    ...(values["kafka-brokers"] !== undefined && {
      kafkaBrokers: values["kafka-brokers"]
        .split(",")
        .map((broker) => broker.trim())
        .filter(Boolean),
    }),
  };

  const logger = pino({
    base: { component: "workload-emulator" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
  // A broker library's stray rejection must not take the emulator down: it is logged, and the source
  // that caused it fails its cycle and retries.
  process.on("unhandledRejection", (reason) => {
    logger.error({ err: reason instanceof Error ? reason.message : String(reason) }, "unhandled rejection");
  });

  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  const emulator = new Emulator({
    rest: new KubeRestClient(config),
    logger,
    connect: brokerConnector(endpoints),
    describeSource: (source) => describeSource(source, endpoints),
    tickMs,
  });
  // Listening first: /healthz answers 503 until the caches are synced, rather than refusing connections.
  const server = await serveEmulator(emulator, port);
  logger.info(
    {
      port: server.port,
      tickMs,
      rabbitmq: endpoints.rabbitmqUrl !== undefined,
      sqs: endpoints.sqsEndpoint,
      kafka: endpoints.kafkaBrokers,
    },
    "listening",
  );

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping");
    const deadline = setTimeout(() => process.exit(1), 10_000);
    deadline.unref();
    void Promise.allSettled([server.close(), emulator.stop()]).then(() => {
      logger.info("stopped");
      process.exit(0);
    });
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  await emulator.start();
}

main().catch((error: unknown) => {
  process.stderr.write(
    `workload emulator: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
