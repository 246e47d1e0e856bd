// Clients for the message brokers KEDA's queue triggers read: RabbitMQ, AWS SQS and Kafka, behind one
// small interface. `mlautoscale loadtest` publishes with them and reads the depth; the local cluster's
// workload emulator also consumes with them, playing the workers.
//
// Each factory imports its broker's library when it is called, never at module load: the operator
// imports nothing from here at run time, and a CLI command pays only for the broker it talks to.

/** The broker a client talks to, as error messages and descriptions name it. */
export type BrokerKind = "RabbitMQ" | "SQS" | "Kafka";

export interface QueueClient {
  /** What and where, e.g. "RabbitMQ queue ml-inference-queue at 127.0.0.1:5672". */
  readonly description: string;
  /**
   * Sends `count` messages, each a small JSON body (see MessageBody), and resolves once the broker has
   * accepted them all (publisher confirms, SendMessageBatch results, acks from all in-sync replicas).
   */
  publish(count: number): Promise<void>;
  /**
   * Messages waiting, counted as KEDA's scaler for the broker counts them by default:
   * - RabbitMQ: the queue's ready messages (what queue.declare reports; KEDA's AMQP mode reads the same).
   * - SQS: ApproximateNumberOfMessages + ApproximateNumberOfMessagesNotVisible. KEDA's aws-sqs-queue
   *   scaler adds the in-flight messages by default (scaleOnInFlight: true): a message a worker has
   *   received but not yet deleted is still work, and without it a busy worker would look idle.
   * - Kafka: the consumer group's total lag over the topic's partitions (end offset - committed offset).
   */
  depth(): Promise<number>;
  /**
   * Takes up to `max` messages and removes them for good (RabbitMQ ack, SQS DeleteMessageBatch, Kafka:
   * the group's committed offsets advance by up to `max`, spread evenly over the partitions with lag).
   * Returns how many it took.
   *
   * For the workload emulator only: it stands in for the workers and may take any message. A load
   * generator must never call it, since it would delete messages it did not publish from a user's queue.
   */
  consume(max: number): Promise<number>;
  close(): Promise<void>;
}

/** The body of every published message. */
export interface MessageBody {
  /** Position in what this client published, from 1. */
  seq: number;
  /** ISO 8601 time of publishing. */
  publishedAt: string;
  publisher: "mlautoscale";
}

/** A failure talking to a broker; the message names the broker and the address. */
export class BrokerError extends Error {
  constructor(
    readonly broker: BrokerKind,
    /** The queue and address, as in QueueClient.description. */
    readonly target: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${target}: ${message}`, options);
    this.name = "BrokerError";
  }
}

/** Wraps any failure in a BrokerError for `target`, keeping one that already is. */
export function brokerError(broker: BrokerKind, target: string, action: string, error: unknown): BrokerError {
  if (error instanceof BrokerError) return error;
  const detail = error instanceof Error ? error.message || error.name : String(error);
  return new BrokerError(broker, target, `${action} failed: ${detail}`, { cause: error });
}

export function messageBody(seq: number, now: Date = new Date()): string {
  const body: MessageBody = { seq, publishedAt: now.toISOString(), publisher: "mlautoscale" };
  return JSON.stringify(body);
}

/** Checks a publish or consume count: a whole number >= 0. */
export function checkCount(what: string, count: number): void {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`${what}: expected a whole number >= 0, got ${count}`);
  }
}

export { createRabbitMqClient, type RabbitMqOptions } from "./rabbitmq.js";
export { createSqsClient, type SqsOptions, type StaticCredentials } from "./sqs.js";
export { createKafkaClient, spreadOverPartitions, type KafkaOptions } from "./kafka.js";
