import type * as SqsSdk from "@aws-sdk/client-sqs";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { BrokerError, brokerError, checkCount, messageBody, type QueueClient } from "./index.js";

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SqsOptions {
  /** https://sqs.<region>.amazonaws.com/<account>/<name>; against a custom endpoint, only the name matters. */
  queueUrl: string;
  region: string;
  /** An SQS-compatible endpoint (a local one); omit for AWS itself. */
  endpoint?: string;
  /** Overrides the SDK's default credential chain (environment, profile, SSO, instance role...). */
  credentials?: StaticCredentials;
  /**
   * Create the queue (by the name in its URL) when it does not exist. Off by default: a real queue has
   * attributes (visibility timeout, dead-letter queue, encryption) that a client must not invent. The
   * workload emulator turns it on for its local endpoint.
   */
  createIfMissing?: boolean;
}

/** SendMessageBatch, ReceiveMessage and DeleteMessageBatch take at most ten messages. */
const BATCH = 10;

function queueNameOf(queueUrl: string): string {
  try {
    return new URL(queueUrl).pathname.split("/").filter(Boolean).pop() ?? queueUrl;
  } catch {
    return queueUrl;
  }
}

function isMissingQueue(error: unknown): boolean {
  const name = (error as { name?: unknown }).name;
  return name === "QueueDoesNotExist" || name === "AWS.SimpleQueueService.NonExistentQueue";
}

/** A client for one SQS queue; checks at once that the queue exists (or creates it, if asked). */
export async function createSqsClient(options: SqsOptions): Promise<QueueClient> {
  const where = options.endpoint ?? `AWS ${options.region}`;
  const description = `SQS queue ${queueNameOf(options.queueUrl)} at ${where}`;
  const sdk = await import("@aws-sdk/client-sqs");
  let client: SQSClient;
  try {
    client = new sdk.SQSClient({
      region: options.region,
      ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
      ...(options.credentials !== undefined && { credentials: options.credentials }),
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 },
    });
  } catch (error) {
    throw brokerError("SQS", description, "configure the client", error);
  }
  const queue = new SqsQueueClient(sdk, client, options.queueUrl, description);
  try {
    await queue.depth().catch(async (error: unknown) => {
      const cause = error instanceof BrokerError ? error.cause : error;
      if (!options.createIfMissing || !isMissingQueue(cause)) throw error;
      try {
        await client.send(new sdk.CreateQueueCommand({ QueueName: queueNameOf(options.queueUrl) }));
      } catch (createError) {
        throw brokerError("SQS", description, "create the queue", createError);
      }
    });
  } catch (error) {
    client.destroy();
    throw error;
  }
  return queue;
}

class SqsQueueClient implements QueueClient {
  private seq = 0;

  constructor(
    private readonly sdk: typeof SqsSdk,
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    readonly description: string,
  ) {}

  async publish(count: number): Promise<void> {
    checkCount("publish", count);
    for (let sent = 0; sent < count; sent += BATCH) {
      const entries = Array.from({ length: Math.min(BATCH, count - sent) }, (_, index) => ({
        Id: String(index),
        MessageBody: messageBody(++this.seq),
      }));
      let failed: readonly { Id?: string; Code?: string; Message?: string }[];
      try {
        const result = await this.client.send(
          new this.sdk.SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }),
        );
        failed = result.Failed ?? [];
      } catch (error) {
        throw brokerError("SQS", this.description, `publish (after ${sent} messages)`, error);
      }
      const first = failed[0];
      if (first) {
        throw new BrokerError(
          "SQS",
          this.description,
          `publish: ${failed.length} of a batch of ${entries.length} refused (${first.Code ?? "?"}: ${first.Message ?? ""})`,
        );
      }
    }
  }

  async depth(): Promise<number> {
    try {
      const result = await this.client.send(
        new this.sdk.GetQueueAttributesCommand({
          QueueUrl: this.queueUrl,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      const attributes = result.Attributes ?? {};
      const count = (name: string): number => Number(attributes[name as keyof typeof attributes] ?? 0) || 0;
      return count("ApproximateNumberOfMessages") + count("ApproximateNumberOfMessagesNotVisible");
    } catch (error) {
      throw brokerError("SQS", this.description, "read the queue attributes", error);
    }
  }

  async consume(max: number): Promise<number> {
    checkCount("consume", max);
    let deleted = 0;
    try {
      while (deleted < max) {
        const received = await this.client.send(
          new this.sdk.ReceiveMessageCommand({
            QueueUrl: this.queueUrl,
            MaxNumberOfMessages: Math.min(BATCH, max - deleted),
            WaitTimeSeconds: 0,
          }),
        );
        const handles = (received.Messages ?? []).flatMap((message) =>
          message.ReceiptHandle === undefined ? [] : [message.ReceiptHandle],
        );
        if (handles.length === 0) break;
        const result = await this.client.send(
          new this.sdk.DeleteMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: handles.map((handle, index) => ({ Id: String(index), ReceiptHandle: handle })),
          }),
        );
        // A message whose delete failed comes back after its visibility timeout: it was not consumed.
        deleted += result.Successful?.length ?? 0;
      }
      return deleted;
    } catch (error) {
      throw brokerError("SQS", this.description, `consume (after ${deleted} messages)`, error);
    }
  }

  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }
}
