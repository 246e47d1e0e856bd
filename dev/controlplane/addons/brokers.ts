// The brokers the examples' KEDA triggers read, each on loopback in the control plane's folder: RabbitMQ
// (Debian's package), a Kafka-protocol broker (franz-go's kfake, built by build.sh) and an SQS endpoint
// speaking the JSON protocol of the AWS SDKs (the project's own; no SQS implementation that speaks it
// can be installed here).
import { mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { startSqsServer, type SqsServer } from "../../brokers/sqs-server.js";
import type { AddonContext } from "./context.js";

/** Resolves true once something accepts TCP connections on 127.0.0.1:port. */
export function tcpOpen(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export interface RabbitMqAddon {
  /** amqp://guest:guest@127.0.0.1:<port>/ */
  amqpUrl: string;
  /** http://guest:guest@127.0.0.1:<port>/ : the management API, which KEDA's http protocol reads. */
  managementUrl: string;
}

export const RABBITMQ_USER = "guest";
export const RABBITMQ_PASSWORD = "guest";

/**
 * RabbitMQ with its management plugin, every port on 127.0.0.1. Its Erlang port mapper (epmd) is started
 * first, as a component of its own, so that it is stopped by its pid too: one that the broker started
 * would outlive it.
 */
export async function startRabbitMq(context: AddonContext): Promise<RabbitMqAddon> {
  const dir = join(context.dir, "rabbitmq");
  for (const sub of ["home", "mnesia", "log"]) mkdirSync(join(dir, sub), { recursive: true });
  const epmd = await context.components.start("epmd", 1, ([port]) => ({
    command: context.locator.system("epmd"),
    args: ["-port", String(port), "-address", "127.0.0.1"],
    probe: () => tcpOpen(port ?? 0),
  }));
  const epmdPort = epmd.ports[0] ?? 0;
  const broker = await context.components.start("rabbitmq", 3, ([amqp, management, distribution]) => {
    writeFileSync(
      join(dir, "rabbitmq.conf"),
      [
        `listeners.tcp.default = 127.0.0.1:${amqp}`,
        `management.tcp.ip = 127.0.0.1`,
        `management.tcp.port = ${management}`,
        // guest may connect from anywhere (that is, from 127.0.0.1 through any interface name).
        "loopback_users = none",
        // The management API's queue statistics, which KEDA's http mode reads, every second.
        "collect_statistics_interval = 1000",
        "",
      ].join("\n"),
    );
    writeFileSync(join(dir, "enabled_plugins"), "[rabbitmq_management].\n");
    return {
      command: context.locator.system("rabbitmq-server"),
      args: [],
      probe: async () => {
        const response = await fetch(`http://127.0.0.1:${management}/api/overview`, {
          headers: {
            Authorization: `Basic ${Buffer.from(`${RABBITMQ_USER}:${RABBITMQ_PASSWORD}`).toString("base64")}`,
          },
          signal: AbortSignal.timeout(2_000),
        }).catch(() => undefined);
        return response?.status === 200;
      },
      options: {
        env: {
          HOME: join(dir, "home"),
          RABBITMQ_NODENAME: "mlautoscale@localhost",
          RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
          RABBITMQ_LOG_BASE: join(dir, "log"),
          RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq.conf"),
          RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
          RABBITMQ_DIST_PORT: String(distribution),
          ERL_EPMD_PORT: String(epmdPort),
          ERL_EPMD_ADDRESS: "127.0.0.1",
          RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: "-kernel inet_dist_use_interface {127,0,0,1}",
          // The script then runs the Erlang VM in its own process instead of a child: the pid the harness
          // holds is the broker's, and SIGTERM stops it cleanly.
          RUNNING_UNDER_SYSTEMD: "true",
        },
      },
    };
  });
  const [amqp, management] = broker.ports;
  return {
    amqpUrl: `amqp://${RABBITMQ_USER}:${RABBITMQ_PASSWORD}@127.0.0.1:${amqp ?? 0}/`,
    managementUrl: `http://${RABBITMQ_USER}:${RABBITMQ_PASSWORD}@127.0.0.1:${management ?? 0}/`,
  };
}

export interface KafkaAddon {
  /** host:port of the one broker */
  brokers: string;
}

/** A one-broker Kafka cluster (kfake) on 127.0.0.1; topics and groups are made by its clients. */
export async function startKafka(context: AddonContext): Promise<KafkaAddon> {
  const broker = await context.components.start("kafka", 1, ([port]) => ({
    command: context.locator.path("kfake"),
    args: ["-port", String(port)],
    probe: () => tcpOpen(port ?? 0),
  }));
  return { brokers: `127.0.0.1:${broker.ports[0] ?? 0}` };
}

/** The SQS endpoint, in the harness's own process. */
export function startSqs(): Promise<SqsServer> {
  return startSqsServer();
}
