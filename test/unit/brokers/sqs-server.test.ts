import { createHash } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  SQSServiceException,
  TagQueueCommand,
  UnsupportedOperation,
  type Message,
} from "@aws-sdk/client-sqs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { startSqsServer, type SqsServer } from "../../../dev/brokers/sqs-server.js";

const JSON_CONTENT_TYPE = "application/x-amz-json-1.0";
// The attribute names KEDA's aws-sqs-queue scaler asks for.
const KEDA_ATTRIBUTE_NAMES = [
  "ApproximateNumberOfMessages",
  "ApproximateNumberOfMessagesNotVisible",
  "ApproximateNumberOfMessagesDelayed",
] as const;

function clientFor(endpoint: string, maxAttempts = 3): SQSClient {
  return new SQSClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDLOCALTEST", secretAccessKey: "not-a-secret" },
    maxAttempts,
  });
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

async function postRaw(
  endpoint: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(`${endpoint}/`, { method: "POST", headers, body });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe("sqs-server", () => {
  let server: SqsServer;
  let sqs: SQSClient;

  beforeEach(async () => {
    server = await startSqsServer();
    sqs = clientFor(server.endpoint);
  });

  afterEach(async () => {
    sqs.destroy();
    await server.close();
  });

  async function createQueue(name: string, attributes?: Record<string, string>): Promise<string> {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (QueueUrl === undefined) throw new Error("CreateQueue returned no QueueUrl");
    return QueueUrl;
  }

  async function kedaCounts(queueUrl: string): Promise<Record<string, string> | undefined> {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [...KEDA_ATTRIBUTE_NAMES] }),
    );
    return Attributes;
  }

  async function receiveOne(queueUrl: string, visibilityTimeout: number, waitSeconds = 0): Promise<Message> {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        VisibilityTimeout: visibilityTimeout,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
      }),
    );
    const [message] = Messages ?? [];
    if (message === undefined) throw new Error("expected a message");
    return message;
  }

  it("creates queues idempotently, resolves their URLs and lists them by prefix", async () => {
    const jobsUrl = await createQueue("jobs-a", { VisibilityTimeout: "45" });
    await createQueue("jobs-b");
    await createQueue("other");

    expect(jobsUrl).toBe(`${server.endpoint}/000000000000/jobs-a`);
    expect(await createQueue("jobs-a", { VisibilityTimeout: "45" })).toBe(jobsUrl);
    const conflict = await rejectionOf(
      sqs.send(new CreateQueueCommand({ QueueName: "jobs-a", Attributes: { VisibilityTimeout: "10" } })),
    );
    expect(conflict).toBeInstanceOf(QueueNameExists);

    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: "jobs-a" }));
    expect(QueueUrl).toBe(jobsUrl);
    const { QueueUrls } = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: "jobs-" }));
    expect(QueueUrls).toEqual([jobsUrl, server.queueUrl("jobs-b")]);
    const firstPage = await sqs.send(new ListQueuesCommand({ MaxResults: 2 }));
    expect(firstPage.QueueUrls).toHaveLength(2);
    const secondPage = await sqs.send(
      new ListQueuesCommand({ MaxResults: 2, NextToken: firstPage.NextToken }),
    );
    expect(secondPage.QueueUrls).toEqual([server.queueUrl("other")]);

    await sqs.send(new DeleteQueueCommand({ QueueUrl: jobsUrl }));
    expect(server.queueNames()).toEqual(["jobs-b", "other"]);
  });

  it("reports queue attributes, including All, and applies SetQueueAttributes", async () => {
    const queueUrl = await createQueue("configured", { VisibilityTimeout: "45", DelaySeconds: "2" });
    await sqs.send(
      new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { VisibilityTimeout: "50" } }),
    );

    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["All"] }),
    );
    expect(Attributes).toMatchObject({
      VisibilityTimeout: "50",
      DelaySeconds: "2",
      QueueArn: "arn:aws:sqs:us-east-1:000000000000:configured",
      ApproximateNumberOfMessages: "0",
      ApproximateNumberOfMessagesNotVisible: "0",
      ApproximateNumberOfMessagesDelayed: "0",
    });
    expect(Number(Attributes?.CreatedTimestamp)).toBeGreaterThan(1_600_000_000);
    expect(Number(Attributes?.LastModifiedTimestamp)).toBeGreaterThanOrEqual(
      Number(Attributes?.CreatedTimestamp),
    );

    // The queue's DelaySeconds applies to a message sent without its own.
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "later" }));
    expect(await kedaCounts(queueUrl)).toMatchObject({ ApproximateNumberOfMessagesDelayed: "1" });
  });

  it("round-trips a non-ASCII body with the MD5 the SDK verifies", async () => {
    const queueUrl = await createQueue("unicode");
    const body = "GPU-Auslastung ✓ — 训练任务 🚀";

    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    expect(sent.MD5OfMessageBody).toBe(createHash("md5").update(body, "utf8").digest("hex"));
    const received = await receiveOne(queueUrl, 30);
    expect(received.Body).toBe(body);
    expect(received.MessageId).toBe(sent.MessageId);
    expect(received.Attributes?.ApproximateReceiveCount).toBe("1");
    expect(Number(received.Attributes?.SentTimestamp)).toBeGreaterThan(0);
  });

  it("the SDK really rejects a wrong MD5, so the round trips above prove the server's", async () => {
    // A server that hashes the body as Latin-1 instead of UTF-8, the mistake a non-ASCII body exposes.
    const wrongHasher = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const { MessageBody } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { MessageBody: string };
        const payload = JSON.stringify({
          MessageId: "d7b7d6b8-0000-4000-8000-000000000000",
          MD5OfMessageBody: createHash("md5").update(MessageBody, "latin1").digest("hex"),
        });
        response.writeHead(200, { "content-type": JSON_CONTENT_TYPE, connection: "close" }).end(payload);
      });
    });
    await new Promise<void>((resolve) => wrongHasher.listen(0, "127.0.0.1", resolve));
    const { port } = wrongHasher.address() as AddressInfo;
    const client = clientFor(`http://127.0.0.1:${port}`, 1);
    try {
      const failure = await rejectionOf(
        client.send(
          new SendMessageCommand({
            QueueUrl: `http://127.0.0.1:${port}/000000000000/q`,
            MessageBody: "训练 ✓",
          }),
        ),
      );
      expect(String(failure)).toMatch(/Checksum/i);
    } finally {
      client.destroy();
      await new Promise<void>((resolve) => wrongHasher.close(() => resolve()));
    }
  });

  it("round-trips message attributes with the real MD5OfMessageAttributes", async () => {
    const queueUrl = await createQueue("attributes");
    // Reference digests of the message-attribute algorithm, published with AWS SDK test suites.
    const strings = await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: "strings",
        MessageAttributes: {
          test_attribute_name_2: { DataType: "String", StringValue: "test_attribute_value_2" },
          test_attribute_name_1: { DataType: "String", StringValue: "test_attribute_value_1" },
        },
      }),
    );
    expect(strings.MD5OfMessageAttributes).toBe("d53f3b558fe951154770f25cb63dbba9");
    const binary = await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: "binary",
        MessageAttributes: {
          test_attribute_name: { DataType: "Binary", BinaryValue: Buffer.from("test_attribute_value") },
        },
      }),
    );
    expect(binary.MD5OfMessageAttributes).toBe("23f6bd27ea87aab7dfeadcc9aebee495");
    await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));

    const mixed = {
      model: { DataType: "String", StringValue: "llama-70b" },
      replicas: { DataType: "Number.int", StringValue: "4" },
      weights: { DataType: "Binary", BinaryValue: new Uint8Array([0, 1, 254, 255]) },
    };
    const sent = await sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "mixed", MessageAttributes: mixed }),
    );
    const all = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ["All"], VisibilityTimeout: 0 }),
    );
    const [message] = all.Messages ?? [];
    expect(message?.MessageAttributes?.model).toEqual(mixed.model);
    expect(message?.MessageAttributes?.replicas).toEqual(mixed.replicas);
    expect(Array.from(message?.MessageAttributes?.weights?.BinaryValue ?? [])).toEqual([0, 1, 254, 255]);
    expect(message?.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);

    // Only the attributes asked for come back, and the digest covers exactly those.
    const some = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ["model"] }),
    );
    const [subset] = some.Messages ?? [];
    expect(Object.keys(subset?.MessageAttributes ?? {})).toEqual(["model"]);
    expect(subset?.MD5OfMessageAttributes).not.toBe(sent.MD5OfMessageAttributes);
    expect(subset?.MD5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);
  });

  it("hides a received message for its visibility timeout, then delivers it again with a new handle", async () => {
    const queueUrl = await createQueue("visibility");
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "train" }));

    const first = await receiveOne(queueUrl, 1);
    expect(first.Attributes?.ApproximateReceiveCount).toBe("1");
    const meanwhile = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }));
    expect(meanwhile.Messages).toBeUndefined();
    expect(await kedaCounts(queueUrl)).toEqual({
      ApproximateNumberOfMessages: "0",
      ApproximateNumberOfMessagesNotVisible: "1",
      ApproximateNumberOfMessagesDelayed: "0",
    });

    const again = await receiveOne(queueUrl, 30, 5);
    expect(again.MessageId).toBe(first.MessageId);
    expect(again.Attributes?.ApproximateReceiveCount).toBe("2");
    expect(again.ReceiptHandle).not.toBe(first.ReceiptHandle);

    const stale = await rejectionOf(
      sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: first.ReceiptHandle })),
    );
    expect(stale).toBeInstanceOf(ReceiptHandleIsInvalid);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: again.ReceiptHandle }));
    expect(server.queueDepth("visibility")).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it("makes a message visible at once when ChangeMessageVisibility sets 0", async () => {
    const queueUrl = await createQueue("change-visibility");
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "retry me" }));
    const first = await receiveOne(queueUrl, 300);

    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: first.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const again = await receiveOne(queueUrl, 300);
    expect(again.MessageId).toBe(first.MessageId);
  });

  it("counts visible, in-flight and delayed messages as KEDA's scaler reads them", async () => {
    const queueUrl = await createQueue("keda-counts");
    for (const body of ["a", "b", "c"]) {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    }
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: "later-1", MessageBody: "d", DelaySeconds: 600 },
          { Id: "later-2", MessageBody: "e", DelaySeconds: 600 },
        ],
      }),
    );
    await receiveOne(queueUrl, 300);

    expect(await kedaCounts(queueUrl)).toEqual({
      ApproximateNumberOfMessages: "2",
      ApproximateNumberOfMessagesNotVisible: "1",
      ApproximateNumberOfMessagesDelayed: "2",
    });
    expect(server.queueDepth("keda-counts")).toEqual({ visible: 2, inFlight: 1, delayed: 2 });
  });

  it("delivers a delayed message once its delay has passed", async () => {
    const queueUrl = await createQueue("delayed");
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "soon", DelaySeconds: 1 }));
    const early = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }));
    expect(early.Messages).toBeUndefined();

    const message = await receiveOne(queueUrl, 30, 5);
    expect(message.Body).toBe("soon");
  });

  it("answers a long poll as soon as a message arrives", async () => {
    const queueUrl = await createQueue("long-poll");
    const startedAt = Date.now();
    const polling = sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 20 }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "wake up" }));

    const { Messages } = await polling;
    expect(Messages?.map((message) => message.Body)).toEqual(["wake up"]);
    // Well before the 20 s the poll was allowed to wait.
    expect(Date.now() - startedAt).toBeLessThan(10_000);
  });

  it("sends and deletes in batches, reporting per-entry failures", async () => {
    const queueUrl = await createQueue("batches");
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: "one", MessageBody: "1" },
          { Id: "two", MessageBody: "2 ✓" },
          { Id: "three", MessageBody: "3" },
          { Id: "too-late", MessageBody: "4", DelaySeconds: 901 },
        ],
      }),
    );
    expect(sent.Successful?.map((entry) => entry.Id)).toEqual(["one", "two", "three"]);
    expect(sent.Failed).toEqual([
      expect.objectContaining({ Id: "too-late", Code: "InvalidParameterValue", SenderFault: true }),
    ]);

    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 300 }),
    );
    expect(Messages.map((message) => message.Body).sort()).toEqual(["1", "2 ✓", "3"]);
    const [first, ...rest] = Messages;
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: first?.ReceiptHandle }));

    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          ...rest.map((message, index) => ({ Id: `m${index}`, ReceiptHandle: message.ReceiptHandle })),
          { Id: "bogus", ReceiptHandle: "not-a-receipt-handle" },
        ],
      }),
    );
    expect(deleted.Successful?.map((entry) => entry.Id)).toEqual(["m0", "m1"]);
    expect(deleted.Failed).toEqual([
      expect.objectContaining({ Id: "bogus", Code: "ReceiptHandleIsInvalid" }),
    ]);
    expect(server.queueDepth("batches")).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it("purges visible, in-flight and delayed messages", async () => {
    const queueUrl = await createQueue("purge");
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "a" }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "b" }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "c", DelaySeconds: 600 }));
    await receiveOne(queueUrl, 300);

    await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
    expect(await kedaCounts(queueUrl)).toEqual({
      ApproximateNumberOfMessages: "0",
      ApproximateNumberOfMessagesNotVisible: "0",
      ApproximateNumberOfMessagesDelayed: "0",
    });
  });

  it("reaches the queue of that name through a real-looking AWS queue URL", async () => {
    await createQueue("training-jobs");
    const awsQueueUrl = "https://sqs.us-east-1.amazonaws.com/123456789012/training-jobs";

    await sqs.send(new SendMessageCommand({ QueueUrl: awsQueueUrl, MessageBody: "epoch 1" }));
    expect(await kedaCounts(awsQueueUrl)).toMatchObject({ ApproximateNumberOfMessages: "1" });
    expect(server.queueDepth("training-jobs")?.visible).toBe(1);
  });

  it("fails with the SDK's error classes for unknown queues and bad receipt handles", async () => {
    expect(await rejectionOf(sqs.send(new GetQueueUrlCommand({ QueueName: "absent" })))).toBeInstanceOf(
      QueueDoesNotExist,
    );
    expect(
      await rejectionOf(
        sqs.send(new SendMessageCommand({ QueueUrl: server.queueUrl("absent"), MessageBody: "x" })),
      ),
    ).toBeInstanceOf(QueueDoesNotExist);

    const queueUrl = await createQueue("errors");
    expect(
      await rejectionOf(sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: "garbage" }))),
    ).toBeInstanceOf(ReceiptHandleIsInvalid);

    const outOfRange = await rejectionOf(
      sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 11 })),
    );
    expect(outOfRange).toBeInstanceOf(SQSServiceException);
    expect((outOfRange as SQSServiceException).name).toBe("InvalidParameterValue");
    expect((outOfRange as SQSServiceException).message).toContain("MaxNumberOfMessages");
  });

  it("puts errors on the wire as the JSON protocol does", async () => {
    const headers = { "content-type": JSON_CONTENT_TYPE, "x-amz-target": "AmazonSQS.GetQueueUrl" };
    const missing = await postRaw(server.endpoint, headers, JSON.stringify({ QueueName: "absent" }));
    expect(missing.status).toBe(400);
    expect(missing.headers.get("x-amzn-query-error")).toBe("AWS.SimpleQueueService.NonExistentQueue;Sender");
    expect(missing.headers.get("content-type")).toBe(JSON_CONTENT_TYPE);
    expect(JSON.parse(missing.text)).toEqual({
      __type: "com.amazonaws.sqs#QueueDoesNotExist",
      message: "The specified queue does not exist.",
    });

    const unknown = await postRaw(
      server.endpoint,
      { ...headers, "x-amz-target": "AmazonSQS.Frobnicate" },
      "{}",
    );
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get("x-amzn-query-error")).toBe("InvalidAction;Sender");

    const tagging = await rejectionOf(
      sqs.send(new TagQueueCommand({ QueueUrl: server.queueUrl("absent"), Tags: { team: "ml" } })),
    );
    expect(tagging).toBeInstanceOf(UnsupportedOperation);

    const query = await postRaw(
      server.endpoint,
      { "content-type": "application/x-www-form-urlencoded" },
      "Action=ListQueues&Version=2012-11-05",
    );
    expect(query.status).toBe(400);
    expect(query.text).toContain("only the AWS JSON 1.0 protocol");
  });

  it("answers a pending long poll and closes promptly", async () => {
    const queueUrl = await createQueue("closing");
    const client = clientFor(server.endpoint, 1);
    const polling = client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 20 }));
    await new Promise((resolve) => setTimeout(resolve, 200));

    const startedAt = Date.now();
    await server.close();
    const outcome = await polling.then(
      (output) => output.Messages,
      (error: unknown) => error,
    );
    expect(outcome).toBeUndefined();
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    client.destroy();
  });
});
