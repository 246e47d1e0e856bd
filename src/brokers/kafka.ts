import type { Admin, Consumer, Producer } from "kafkajs";
import { brokerError, checkCount, messageBody, type QueueClient } from "./index.js";

export interface KafkaOptions {
  /** host:port of one or more brokers. */
  brokers: readonly string[];
  topic: string;
  /** The consumer group whose lag is the depth (KEDA's kafka trigger's consumerGroup). */
  consumerGroup: string;
  /**
   * Partitions of the topic when this client creates it (default 1). KEDA's kafka scaler runs at most
   * one replica per partition unless allowIdleConsumers is set: this bounds how far the workload scales.
   */
  partitions?: number;
}

/** Sends in rounds of this many messages. */
const PRODUCE_ROUND = 1_000;

/**
 * How many of `max` messages to take from each partition, given each one's lag: even shares (as equally
 * fast consumers of one partition each would take), a partition's unused share going to the others.
 */
export function spreadOverPartitions(lags: readonly number[], max: number): number[] {
  const taken = lags.map(() => 0);
  let remaining = Math.max(0, Math.floor(max));
  let open = lags.flatMap((lag, index) => (lag > 0 ? [index] : []));
  while (remaining > 0 && open.length > 0) {
    const share = Math.max(1, Math.floor(remaining / open.length));
    for (const index of open) {
      const take = Math.min(share, (lags[index] ?? 0) - (taken[index] ?? 0), remaining);
      taken[index] = (taken[index] ?? 0) + take;
      remaining -= take;
      if (remaining === 0) break;
    }
    open = open.filter((index) => (taken[index] ?? 0) < (lags[index] ?? 0));
  }
  return taken;
}

interface PartitionOffsets {
  partition: number;
  low: number;
  high: number;
  /** The group's committed offset; -1 when it has none. */
  committed: number;
}

/**
 * A client for one topic and consumer group. Connects at once, creates the topic if it does not exist,
 * and commits the partitions' start offsets for a group that has none: a broker knows a group only once
 * it has committed (kfake says "group id does not exist" before that, and a real broker answers offset
 * -1), and until then KEDA's kafka scaler cannot read its lag.
 *
 * Consuming moves the group's committed offsets (see commit()), which is refused while the group has
 * members: the group must be one only KEDA reads, with no consumers running (the emulator's case).
 */
export async function createKafkaClient(options: KafkaOptions): Promise<QueueClient> {
  const description = `Kafka topic ${options.topic} (group ${options.consumerGroup}) at ${options.brokers.join(",")}`;
  const kafkajs = await import("kafkajs");
  const kafka = new kafkajs.Kafka({
    clientId: "mlautoscale",
    brokers: [...options.brokers],
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    // A broker that is down fails the call in seconds instead of kafkajs's half a minute of retries.
    retry: { retries: 2, initialRetryTime: 300, maxRetryTime: 2_000 },
    // Failures reach the caller as errors; kafkajs's own logging would repeat each one several times.
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (error) {
    throw brokerError("Kafka", description, "connect", error);
  }
  const client = new KafkaQueueClient(
    admin,
    options,
    description,
    () =>
      kafka.producer({
        createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
      }),
    () =>
      kafka.consumer({
        groupId: options.consumerGroup,
        maxWaitTimeInMs: 50,
        sessionTimeout: 10_000,
        rebalanceTimeout: 5_000,
        heartbeatInterval: 1_000,
        allowAutoTopicCreation: false,
        retry: { retries: 1 },
      }),
  );
  try {
    await client.prepare(options.partitions ?? 1);
  } catch (error) {
    await client.close();
    throw error;
  }
  return client;
}

class KafkaQueueClient implements QueueClient {
  private producer: Producer | undefined;
  private seq = 0;

  constructor(
    private readonly admin: Admin,
    private readonly options: KafkaOptions,
    readonly description: string,
    private readonly makeProducer: () => Producer,
    private readonly makeConsumer: () => Consumer,
  ) {}

  async prepare(partitions: number): Promise<void> {
    try {
      await this.admin.createTopics({
        topics: [{ topic: this.options.topic, numPartitions: partitions }],
        waitForLeaders: true,
      });
    } catch (error) {
      throw brokerError("Kafka", this.description, "create the topic", error);
    }
    const offsets = await this.offsets();
    const uncommitted = offsets.filter((partition) => partition.committed < 0);
    if (uncommitted.length > 0) {
      await this.commit(
        uncommitted.map(({ partition, low }) => ({ partition, offset: low })),
        "commit the group's start offsets",
      );
    }
  }

  async publish(count: number): Promise<void> {
    checkCount("publish", count);
    try {
      if (!this.producer) {
        const producer = this.makeProducer();
        await producer.connect();
        this.producer = producer;
      }
      for (let sent = 0; sent < count; sent += PRODUCE_ROUND) {
        const messages = Array.from({ length: Math.min(PRODUCE_ROUND, count - sent) }, () => ({
          value: messageBody(++this.seq),
        }));
        await this.producer.send({ topic: this.options.topic, acks: -1, messages });
      }
    } catch (error) {
      throw brokerError("Kafka", this.description, "publish", error);
    }
  }

  async depth(): Promise<number> {
    const offsets = await this.offsets();
    return offsets.reduce((total, partition) => total + lagOf(partition), 0);
  }

  async consume(max: number): Promise<number> {
    checkCount("consume", max);
    if (max === 0) return 0;
    const offsets = await this.offsets();
    const taken = spreadOverPartitions(offsets.map(lagOf), max);
    const moves = offsets.flatMap((partition, index) => {
      const take = taken[index] ?? 0;
      return take > 0 ? [{ partition: partition.partition, offset: startOf(partition) + take }] : [];
    });
    if (moves.length === 0) return 0;
    await this.commit(moves, "advance the group's offsets");
    return taken.reduce((total, take) => total + take, 0);
  }

  async close(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
  }

  /** The topic's partitions with the group's committed offsets. */
  private async offsets(): Promise<PartitionOffsets[]> {
    const { topic, consumerGroup } = this.options;
    let ends: Awaited<ReturnType<Admin["fetchTopicOffsets"]>>;
    try {
      ends = await this.admin.fetchTopicOffsets(topic);
    } catch (error) {
      throw brokerError("Kafka", this.description, "read the topic's offsets", error);
    }
    const committed = new Map<number, number>();
    try {
      const groups = await this.admin.fetchOffsets({ groupId: consumerGroup, topics: [topic] });
      for (const entry of groups.find((group) => group.topic === topic)?.partitions ?? []) {
        committed.set(entry.partition, Number(entry.offset));
      }
    } catch (error) {
      // A group that never committed: every partition is uncommitted.
      if ((error as { type?: unknown }).type !== "GROUP_ID_NOT_FOUND") {
        throw brokerError("Kafka", this.description, "read the group's offsets", error);
      }
    }
    return ends
      .map((end) => ({
        partition: end.partition,
        low: Number(end.low),
        high: Number(end.high),
        committed: committed.get(end.partition) ?? -1,
      }))
      .sort((a, b) => a.partition - b.partition);
  }

  /**
   * Commits offsets for the group, as kafkajs's admin.setOffsets does: a consumer of its own joins the
   * (empty) group, seeks, and leaves, its seeks committed on the way. setOffsets itself then waits for a
   * full fetch, kafkajs's default maxWaitTimeInMs of 5 s, on every call; this consumer waits 50 ms.
   */
  private async commit(partitions: { partition: number; offset: number }[], action: string): Promise<void> {
    const { topic, consumerGroup } = this.options;
    try {
      // Joining a group with members would make them rebalance: only an empty group is touched.
      const described = await this.admin.describeGroups([consumerGroup]).catch((error: unknown) => {
        if ((error as { type?: unknown }).type === "GROUP_ID_NOT_FOUND") return { groups: [] };
        throw error;
      });
      const state = described.groups.find((group) => group.groupId === consumerGroup)?.state ?? "Dead";
      if (state !== "Empty" && state !== "Dead") {
        throw new Error(
          `the group has running consumers (state ${state}); only an idle group's offsets are moved`,
        );
      }
      await seekAndLeave(this.makeConsumer(), topic, partitions);
    } catch (error) {
      throw brokerError("Kafka", this.description, action, error);
    }
  }
}

/** The longest a commit may take, join and leave included. */
const COMMIT_TIMEOUT_MS = 15_000;

/** Joins with `consumer`, seeks every partition given (committing it), and leaves at its first fetch. */
async function seekAndLeave(
  consumer: Consumer,
  topic: string,
  partitions: readonly { partition: number; offset: number }[],
): Promise<void> {
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no commit within ${COMMIT_TIMEOUT_MS / 1000} s`)),
        COMMIT_TIMEOUT_MS,
      );
      const settle = (error?: Error): void => {
        clearTimeout(timer);
        if (error === undefined) resolve();
        else reject(error);
      };
      // The seeks are committed once the consumer has joined and before it first fetches.
      consumer.on(consumer.events.FETCH, () => settle());
      consumer.on(consumer.events.CRASH, (event) => settle(event.payload.error));
      consumer
        .run({ eachBatchAutoResolve: false, eachBatch: () => Promise.resolve() })
        .catch((error: unknown) => settle(error instanceof Error ? error : new Error("the consumer failed")));
      consumer.pause([{ topic }]);
      for (const { partition, offset } of partitions)
        consumer.seek({ topic, partition, offset: String(offset) });
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

/** Where the group resumes: its committed offset, or the partition's start while it has none. */
function startOf(partition: PartitionOffsets): number {
  return partition.committed < 0 ? partition.low : Math.max(partition.committed, partition.low);
}

function lagOf(partition: PartitionOffsets): number {
  return Math.max(0, partition.high - startOf(partition));
}
