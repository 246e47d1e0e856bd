import type { Channel, ChannelModel, ConfirmChannel } from "amqplib";
import { BrokerError, brokerError, checkCount, messageBody, type QueueClient } from "./index.js";

export interface RabbitMqOptions {
  /** amqp://user:password@host:port/vhost */
  url: string;
  queueName: string;
  /** TCP connect timeout; amqplib has none by default and would wait for the OS's. */
  connectTimeoutMs?: number;
}

/** Publishes in rounds of this many, waiting for the confirms of each before sending more. */
const CONFIRM_ROUND = 500;

/** host:port of an AMQP URL, for messages: never the credentials. */
function addressOf(url: string): string {
  try {
    const parsed = new URL(url);
    const port = parsed.port || (parsed.protocol === "amqps:" ? "5671" : "5672");
    const vhost = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
    return `${parsed.hostname}:${port}${vhost && vhost !== "/" ? ` (vhost ${vhost})` : ""}`;
  } catch {
    return "(an invalid AMQP URL)";
  }
}

/**
 * A client for one RabbitMQ queue. Connects at once and declares the queue durable if it does not
 * exist; an existing queue is used as it is (whatever its type and arguments) and never deleted.
 */
export async function createRabbitMqClient(options: RabbitMqOptions): Promise<QueueClient> {
  const description = `RabbitMQ queue ${options.queueName} at ${addressOf(options.url)}`;
  const amqp = await import("amqplib");
  let model: ChannelModel;
  try {
    model = await amqp.connect(options.url, {
      timeout: options.connectTimeoutMs ?? 5_000,
      // Each basic.get waits for its answer: with Nagle's algorithm every one would wait ~40 ms more.
      noDelay: true,
      clientProperties: { connection_name: `mlautoscale ${options.queueName}` },
    });
  } catch (error) {
    throw brokerError("RabbitMQ", description, "connect", error);
  }
  const client = new RabbitMqClient(model, options.queueName, description);
  try {
    await client.declare();
  } catch (error) {
    await client.close();
    throw error;
  }
  return client;
}

/** Resolves when a channel's write buffer has room again, or when the channel closes (the next call fails). */
function drained(channel: Channel): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      channel.off("drain", done);
      channel.off("close", done);
      resolve();
    };
    channel.once("drain", done);
    channel.once("close", done);
  });
}

class RabbitMqClient implements QueueClient {
  private channel: ConfirmChannel | undefined;
  /** Why the connection is unusable, once it is: every later call fails with it. */
  private broken: Error | undefined;
  private closed = false;
  private seq = 0;

  constructor(
    private readonly model: ChannelModel,
    private readonly queueName: string,
    readonly description: string,
  ) {
    // amqplib emits "error" on a lost connection; unheard, that event would crash the process.
    model.on("error", (error: Error) => {
      this.broken = error;
    });
    model.on("close", (error?: Error) => {
      this.broken ??= error ?? new Error("connection closed");
    });
  }

  /** Declares the queue unless it exists. A failed check closes its channel, so it gets one of its own. */
  async declare(): Promise<void> {
    const probe = await this.open("open a channel", () => this.model.createChannel());
    const exists = await probe.checkQueue(this.queueName).then(
      () => true,
      (error: unknown) => {
        if ((error as { code?: unknown }).code === 404) return false;
        throw brokerError("RabbitMQ", this.description, "check the queue", error);
      },
    );
    if (exists) {
      await probe.close().catch(() => undefined);
      return;
    }
    const declarer = await this.open("open a channel", () => this.model.createChannel());
    try {
      await declarer.assertQueue(this.queueName, { durable: true });
    } catch (error) {
      throw brokerError("RabbitMQ", this.description, "declare the queue", error);
    } finally {
      await declarer.close().catch(() => undefined);
    }
  }

  async publish(count: number): Promise<void> {
    checkCount("publish", count);
    const channel = await this.confirmChannel();
    try {
      for (let sent = 0; sent < count;) {
        const round = Math.min(CONFIRM_ROUND, count - sent);
        for (let index = 0; index < round; index++) {
          const body = Buffer.from(messageBody(++this.seq));
          const accepted = channel.sendToQueue(this.queueName, body, {
            persistent: true,
            contentType: "application/json",
          });
          if (!accepted) await drained(channel);
        }
        await channel.waitForConfirms();
        sent += round;
      }
    } catch (error) {
      throw brokerError("RabbitMQ", this.description, "publish", error);
    }
  }

  async depth(): Promise<number> {
    const channel = await this.confirmChannel();
    try {
      return (await channel.checkQueue(this.queueName)).messageCount;
    } catch (error) {
      throw brokerError("RabbitMQ", this.description, "read the queue depth", error);
    }
  }

  async consume(max: number): Promise<number> {
    checkCount("consume", max);
    if (max === 0) return 0;
    const channel = await this.confirmChannel();
    let taken = 0;
    try {
      for (; taken < max; taken++) {
        const message = await channel.get(this.queueName, { noAck: false });
        if (message === false) break;
        // One ack per message, sent as it is taken: a message never stays held if a later get fails.
        channel.ack(message);
      }
      return taken;
    } catch (error) {
      throw brokerError("RabbitMQ", this.description, `consume (after ${taken} messages)`, error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // The connection may already be gone; closing it then has nothing to do.
    await this.model.close().catch(() => undefined);
  }

  private async confirmChannel(): Promise<ConfirmChannel> {
    if (this.channel) return this.channel;
    const channel = await this.open("open a confirm channel", () => this.model.createConfirmChannel());
    // A channel error (say, the queue was deleted) closes the channel only: the next call opens another.
    channel.on("error", () => undefined);
    channel.on("close", () => {
      if (this.channel === channel) this.channel = undefined;
    });
    this.channel = channel;
    return channel;
  }

  private async open<C extends Channel>(action: string, create: () => Promise<C>): Promise<C> {
    if (this.closed) throw new BrokerError("RabbitMQ", this.description, "the client is closed");
    if (this.broken) throw brokerError("RabbitMQ", this.description, "the connection", this.broken);
    try {
      const channel = await create();
      channel.on("error", () => undefined);
      return channel;
    } catch (error) {
      throw brokerError("RabbitMQ", this.description, action, error);
    }
  }
}
