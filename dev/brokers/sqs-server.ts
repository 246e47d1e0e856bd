/**
 * An in-memory Amazon SQS endpoint on node:http, for the local cluster and the tests.
 *
 * Why it exists: KEDA's `aws-sqs-queue` scaler (aws-sdk-go-v2/service/sqs) must poll a real
 * wire-protocol server on loopback, and the `loadtest` command publishes with @aws-sdk/client-sqs
 * v3. No SQS implementation that speaks the protocol those clients use can be installed on this
 * machine, so the project serves that protocol itself: AWS JSON 1.0 (`POST /`,
 * `X-Amz-Target: AmazonSQS.<Operation>`, `Content-Type: application/x-amz-json-1.0`, JSON bodies both
 * ways), with errors as the real service sends them (a `__type` body and the query-compatible
 * `x-amzn-query-error: <code>;Sender` header, which is what both SDKs use to pick an error class).
 * The legacy query protocol (form-encoded `Action=`) is refused with an error that says so.
 *
 * Operations served: CreateQueue, GetQueueUrl, ListQueues, DeleteQueue, PurgeQueue,
 * GetQueueAttributes, SetQueueAttributes, SendMessage, SendMessageBatch, ReceiveMessage (long polling
 * up to 20 s), DeleteMessage, DeleteMessageBatch, ChangeMessageVisibility. The other SQS operations
 * answer UnsupportedOperation; a target that is not an SQS operation answers InvalidAction.
 *
 * Decisions, where a dev server has to choose:
 * - Signatures are accepted without verification; credentials are whatever the client has. The
 *   access key id of the signature becomes the messages' SenderId.
 * - A queue is identified by its name, the last path segment of the QueueUrl it is given, whatever the
 *   host and account in that URL: one server stands for one account, and a policy may carry a
 *   real-looking URL (`https://sqs.us-east-1.amazonaws.com/123456789012/training-jobs`) while its
 *   endpoint points here. URLs this server hands out use its own endpoint and account id.
 * - Standard queues only; FIFO and dead-letter (redrive) attributes are refused rather than
 *   accepted and ignored. Policy and KMS attributes are stored and echoed, with no effect.
 * - Receipt handles change on every receive. Only the latest one acts on a message: an older
 *   handle is refused with ReceiptHandleIsInvalid (where the real service may answer success and
 *   leave the message alone), so a consumer that deletes too late finds out. Deleting a message that
 *   is already gone succeeds, as on the real service.
 * - MD5OfMessageBody is the hex MD5 of the body's UTF-8 bytes (the SDKs verify it);
 *   MD5OfMessageAttributes uses the real algorithm over the attributes actually returned.
 * - DeleteQueue and PurgeQueue take effect at once; the real service's 60-second cool-downs are not
 *   imitated.
 * - Loopback only by default. close() answers pending long polls (empty) and closes keep-alive
 *   sockets, so test processes exit.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SqsServerOptions {
  /** Interface to listen on; loopback unless told otherwise. */
  host?: string;
  /** 0 lets the system pick a free port. */
  port?: number;
  /** Account id in the QueueUrls and ARNs this server hands out. */
  accountId?: string;
  region?: string;
}

export interface QueueDepth {
  /** ApproximateNumberOfMessages: receivable now. */
  visible: number;
  /** ApproximateNumberOfMessagesNotVisible: received and not yet deleted or timed out. */
  inFlight: number;
  /** ApproximateNumberOfMessagesDelayed: sent with a delay that has not passed. */
  delayed: number;
}

export interface SqsServer {
  /** `http://127.0.0.1:PORT`, what clients pass as their endpoint. */
  readonly endpoint: string;
  readonly accountId: string;
  readonly region: string;
  /** The QueueUrl this server hands out for a queue name. */
  queueUrl(queueName: string): string;
  /** Message counts of a queue, or undefined when no queue has that name. */
  queueDepth(queueName: string): QueueDepth | undefined;
  queueNames(): string[];
  close(): Promise<void>;
}

const JSON_CONTENT_TYPE = "application/x-amz-json-1.0";
const SERVICE_TARGET_PREFIX = "AmazonSQS";
/** Ten entries of the largest message size, plus JSON and base64 overhead. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;
const MAX_BATCH_ENTRIES = 10;
const MAX_MESSAGE_ATTRIBUTES = 10;
const MAX_LONG_POLL_SECONDS = 20;
const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;
const MAX_DELAY_SECONDS = 900;
/** How long close() lets answered requests flush before it drops their sockets. */
const CLOSE_GRACE_MS = 1_000;

// ---------------------------------------------------------------------------------------------
// Errors, as the JSON protocol carries them.

class SqsError extends Error {
  constructor(
    /** The body's `__type`, a Smithy shape id. */
    readonly shapeId: string,
    /** The query-protocol code for `x-amzn-query-error`, which the SDKs match error classes on. */
    readonly queryCode: string,
    readonly httpStatus: number,
    message: string,
    readonly fault: "Sender" | "Receiver" = "Sender",
  ) {
    super(message);
  }
}

// Modelled errors carry the shape id and query code the SQS model gives them. Generic errors
// (InvalidParameterValue, MissingParameter, unknown operations) are not in the SQS model: the real
// service names them with coral shapes, and the SDKs key on the header code.
const errors = {
  queueDoesNotExist: () =>
    new SqsError(
      "com.amazonaws.sqs#QueueDoesNotExist",
      "AWS.SimpleQueueService.NonExistentQueue",
      400,
      "The specified queue does not exist.",
    ),
  queueNameExists: (attributeName: string) =>
    new SqsError(
      "com.amazonaws.sqs#QueueNameExists",
      "QueueAlreadyExists",
      400,
      `A queue already exists with the same name and a different value for attribute ${attributeName}`,
    ),
  invalidAddress: (queueUrl: string) =>
    new SqsError(
      "com.amazonaws.sqs#InvalidAddress",
      "InvalidAddress",
      404,
      `The address ${queueUrl} is not valid for this endpoint.`,
    ),
  invalidParameterValue: (message: string) =>
    new SqsError(
      "com.amazon.coral.service#InvalidParameterValueException",
      "InvalidParameterValue",
      400,
      message,
    ),
  outOfRange: (parameter: string, value: number, min: number, max: number): SqsError =>
    errors.invalidParameterValue(
      `Value ${value} for parameter ${parameter} is invalid. Reason: Must be between ${min} and ${max}, if provided.`,
    ),
  missingParameter: (parameter: string) =>
    new SqsError(
      "com.amazon.coral.service#MissingParameterException",
      "MissingParameter",
      400,
      `The request must contain the parameter ${parameter}.`,
    ),
  serialization: (message: string) =>
    new SqsError("com.amazon.coral.service#SerializationException", "SerializationException", 400, message),
  invalidAttributeName: (attributeName: string) =>
    new SqsError(
      "com.amazonaws.sqs#InvalidAttributeName",
      "InvalidAttributeName",
      400,
      `Unknown Attribute ${attributeName}.`,
    ),
  invalidAttributeValue: (attributeName: string, reason: string) =>
    new SqsError(
      "com.amazonaws.sqs#InvalidAttributeValue",
      "InvalidAttributeValue",
      400,
      `Invalid value for the parameter ${attributeName}. Reason: ${reason}`,
    ),
  invalidMessageContents: (message: string) =>
    new SqsError("com.amazonaws.sqs#InvalidMessageContents", "InvalidMessageContents", 400, message),
  receiptHandleIsInvalid: (receiptHandle: string, reason: string) =>
    new SqsError(
      "com.amazonaws.sqs#ReceiptHandleIsInvalid",
      "ReceiptHandleIsInvalid",
      404,
      `The input receipt handle "${receiptHandle}" is not a valid receipt handle. ${reason}`,
    ),
  messageNotInflight: () =>
    new SqsError(
      "com.amazonaws.sqs#MessageNotInflight",
      "AWS.SimpleQueueService.MessageNotInflight",
      400,
      "The message referred to isn't in flight.",
    ),
  emptyBatchRequest: () =>
    new SqsError(
      "com.amazonaws.sqs#EmptyBatchRequest",
      "AWS.SimpleQueueService.EmptyBatchRequest",
      400,
      "There should be at least one entry in the request.",
    ),
  tooManyEntriesInBatchRequest: (count: number) =>
    new SqsError(
      "com.amazonaws.sqs#TooManyEntriesInBatchRequest",
      "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
      400,
      `Maximum number of entries per request are ${MAX_BATCH_ENTRIES}. You have sent ${count}.`,
    ),
  batchEntryIdsNotDistinct: (id: string) =>
    new SqsError(
      "com.amazonaws.sqs#BatchEntryIdsNotDistinct",
      "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
      400,
      `Id ${id} repeated.`,
    ),
  invalidBatchEntryId: () =>
    new SqsError(
      "com.amazonaws.sqs#InvalidBatchEntryId",
      "AWS.SimpleQueueService.InvalidBatchEntryId",
      400,
      "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
    ),
  batchRequestTooLong: (totalBytes: number, maxBytes: number) =>
    new SqsError(
      "com.amazonaws.sqs#BatchRequestTooLong",
      "AWS.SimpleQueueService.BatchRequestTooLong",
      400,
      `Batch requests cannot be longer than ${maxBytes} bytes. You have sent ${totalBytes} bytes.`,
    ),
  unsupportedOperation: (message: string) =>
    new SqsError(
      "com.amazonaws.sqs#UnsupportedOperation",
      "AWS.SimpleQueueService.UnsupportedOperation",
      400,
      message,
    ),
  invalidAction: (message: string) =>
    new SqsError("com.amazon.coral.service#UnknownOperationException", "InvalidAction", 400, message),
  requestTooLarge: () =>
    new SqsError(
      "com.amazon.coral.service#SerializationException",
      "RequestEntityTooLarge",
      413,
      `Request body exceeds ${MAX_REQUEST_BYTES} bytes.`,
    ),
  internal: (message: string) =>
    new SqsError("com.amazon.coral.service#InternalFailure", "InternalFailure", 500, message, "Receiver"),
};

// ---------------------------------------------------------------------------------------------
// Reading JSON request members. The real service rejects members of the wrong JSON type with a
// SerializationException rather than coercing them, and so does this one.

type JsonObject = Record<string, unknown>;

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function member(input: JsonObject, name: string): unknown {
  const value = input[name];
  return value === null ? undefined : value;
}

function optionalString(input: JsonObject, name: string): string | undefined {
  const value = member(input, name);
  if (value === undefined || typeof value === "string") return value;
  throw errors.serialization(`${name} must be a string.`);
}

function requiredString(input: JsonObject, name: string): string {
  const value = optionalString(input, name);
  if (value === undefined || value === "") throw errors.missingParameter(name);
  return value;
}

function optionalInteger(input: JsonObject, name: string): number | undefined {
  const value = member(input, name);
  if (value === undefined) return undefined;
  if (typeof value === "number" && Number.isInteger(value)) return value;
  throw errors.serialization(`${name} must be an integer.`);
}

function integerInRange(input: JsonObject, name: string, min: number, max: number): number | undefined {
  const value = optionalInteger(input, name);
  if (value !== undefined && (value < min || value > max)) throw errors.outOfRange(name, value, min, max);
  return value;
}

function optionalStringList(input: JsonObject, name: string): string[] | undefined {
  const value = member(input, name);
  if (value === undefined) return undefined;
  if (Array.isArray(value) && value.every((item): item is string => typeof item === "string")) return value;
  throw errors.serialization(`${name} must be a list of strings.`);
}

function optionalStringMap(input: JsonObject, name: string): Record<string, string> | undefined {
  const value = member(input, name);
  if (value === undefined) return undefined;
  if (isJsonObject(value) && Object.values(value).every((item) => typeof item === "string")) {
    return value as Record<string, string>;
  }
  throw errors.serialization(`${name} must be a map of strings to strings.`);
}

function optionalObjectMap(input: JsonObject, name: string): Record<string, JsonObject> | undefined {
  const value = member(input, name);
  if (value === undefined) return undefined;
  if (isJsonObject(value) && Object.values(value).every(isJsonObject)) {
    return value as Record<string, JsonObject>;
  }
  throw errors.serialization(`${name} must be a map of strings to structures.`);
}

function batchEntries(input: JsonObject): JsonObject[] {
  const value = member(input, "Entries");
  if (value === undefined) throw errors.missingParameter("Entries");
  if (!Array.isArray(value) || !value.every(isJsonObject)) {
    throw errors.serialization("Entries must be a list of structures.");
  }
  if (value.length === 0) throw errors.emptyBatchRequest();
  if (value.length > MAX_BATCH_ENTRIES) throw errors.tooManyEntriesInBatchRequest(value.length);
  const seenIds = new Set<string>();
  for (const entry of value) {
    const id = requiredString(entry, "Id");
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(id)) throw errors.invalidBatchEntryId();
    if (seenIds.has(id)) throw errors.batchEntryIdsNotDistinct(id);
    seenIds.add(id);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Queues and messages.

const numericQueueAttributes = {
  VisibilityTimeout: { defaultValue: 30, min: 0, max: MAX_VISIBILITY_TIMEOUT_SECONDS },
  DelaySeconds: { defaultValue: 0, min: 0, max: MAX_DELAY_SECONDS },
  ReceiveMessageWaitTimeSeconds: { defaultValue: 0, min: 0, max: MAX_LONG_POLL_SECONDS },
  MaximumMessageSize: { defaultValue: 262_144, min: 1_024, max: 1_048_576 },
  MessageRetentionPeriod: { defaultValue: 345_600, min: 60, max: 1_209_600 },
} as const;
type NumericQueueAttribute = keyof typeof numericQueueAttributes;
type QueueSettings = Record<NumericQueueAttribute, number>;

function isNumericQueueAttribute(name: string): name is NumericQueueAttribute {
  return Object.hasOwn(numericQueueAttributes, name);
}

/** Settable, kept and echoed; nothing here enforces them. */
const opaqueQueueAttributes = new Set([
  "Policy",
  "KmsMasterKeyId",
  "KmsDataKeyReusePeriodSeconds",
  "SqsManagedSseEnabled",
]);
/** Settable on the real service, but they would need behaviour this server does not have. */
const refusedQueueAttributes = new Set([
  "FifoQueue",
  "ContentBasedDeduplication",
  "DeduplicationScope",
  "FifoThroughputLimit",
  "RedrivePolicy",
  "RedriveAllowPolicy",
]);
const computedQueueAttributes = [
  "ApproximateNumberOfMessages",
  "ApproximateNumberOfMessagesNotVisible",
  "ApproximateNumberOfMessagesDelayed",
  "QueueArn",
  "CreatedTimestamp",
  "LastModifiedTimestamp",
] as const;
const readableQueueAttributes = new Set<string>([
  ...Object.keys(numericQueueAttributes),
  ...opaqueQueueAttributes,
  ...refusedQueueAttributes,
  ...computedQueueAttributes,
]);

const messageSystemAttributeNames = new Set([
  "SenderId",
  "SentTimestamp",
  "ApproximateReceiveCount",
  "ApproximateFirstReceiveTimestamp",
  "AWSTraceHeader",
  // FIFO and dead-letter names: valid to ask for, never present on this server's messages.
  "SequenceNumber",
  "MessageDeduplicationId",
  "MessageGroupId",
  "DeadLetterQueueSourceArn",
]);

interface MessageAttribute {
  readonly dataType: string;
  readonly stringValue?: string;
  readonly binaryValue?: Buffer;
}

interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly messageAttributes: ReadonlyMap<string, MessageAttribute>;
  readonly traceHeader: string | undefined;
  readonly senderId: string;
  readonly sentAt: number;
  /** Until this instant the message is delayed (never received) or in flight (received). */
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt: number | undefined;
  /** The one receipt handle that may act on the message; older ones are refused. */
  currentReceiptHandle: string | undefined;
}

class Queue {
  /** Insertion-ordered, which gives the best-effort ordering of a standard queue. */
  readonly messages = new Map<string, StoredMessage>();
  /** Long polls waiting for something to change in this queue. */
  readonly waiters = new Set<() => void>();
  readonly opaqueAttributes = new Map<string, string>();
  deleted = false;
  lastModifiedAt: number;

  constructor(
    readonly name: string,
    readonly settings: QueueSettings,
    readonly createdAt: number,
  ) {
    this.lastModifiedAt = createdAt;
  }

  wakeWaiters(): void {
    for (const wake of [...this.waiters]) wake();
  }

  dropExpired(now: number): void {
    const retentionMs = this.settings.MessageRetentionPeriod * 1000;
    for (const [messageId, message] of this.messages) {
      if (message.sentAt + retentionMs <= now) this.messages.delete(messageId);
    }
  }

  depth(now: number): QueueDepth {
    this.dropExpired(now);
    const depth: QueueDepth = { visible: 0, inFlight: 0, delayed: 0 };
    for (const message of this.messages.values()) {
      if (message.visibleAt <= now) depth.visible += 1;
      else if (message.receiveCount > 0) depth.inFlight += 1;
      else depth.delayed += 1;
    }
    return depth;
  }

  /** When the next delayed or in-flight message becomes receivable, if any will. */
  nextVisibleAt(now: number): number | undefined {
    let next: number | undefined;
    for (const message of this.messages.values()) {
      if (message.visibleAt > now && (next === undefined || message.visibleAt < next))
        next = message.visibleAt;
    }
    return next;
  }
}

function md5Hex(data: string | Buffer): string {
  return createHash("md5").update(data).digest("hex");
}

function lengthPrefixed(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/**
 * The real MD5OfMessageAttributes: names in sorted order, each as length-prefixed name, length-prefixed
 * data type, a transport byte (1 for String and Number, 2 for Binary) and the length-prefixed value.
 */
function md5OfMessageAttributes(attributes: ReadonlyMap<string, MessageAttribute>): string {
  const hash = createHash("md5");
  for (const name of [...attributes.keys()].sort()) {
    const attribute = attributes.get(name);
    if (attribute === undefined) continue;
    hash.update(lengthPrefixed(Buffer.from(name, "utf8")));
    hash.update(lengthPrefixed(Buffer.from(attribute.dataType, "utf8")));
    if (attribute.binaryValue !== undefined) {
      hash.update(Buffer.from([2]));
      hash.update(lengthPrefixed(attribute.binaryValue));
    } else {
      hash.update(Buffer.from([1]));
      hash.update(lengthPrefixed(Buffer.from(attribute.stringValue ?? "", "utf8")));
    }
  }
  return hash.digest("hex");
}

function messageAttributeSize(attributes: ReadonlyMap<string, MessageAttribute>): number {
  let size = 0;
  for (const [name, attribute] of attributes) {
    size += Buffer.byteLength(name) + Buffer.byteLength(attribute.dataType);
    size += attribute.binaryValue?.length ?? Buffer.byteLength(attribute.stringValue ?? "");
  }
  return size;
}

// The characters SQS allows in a body and in string attribute values.
const ALLOWED_MESSAGE_CHARACTERS = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;
const NUMBER_VALUE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

function parseMessageAttributes(input: JsonObject): Map<string, MessageAttribute> {
  const raw = optionalObjectMap(input, "MessageAttributes") ?? {};
  const names = Object.keys(raw);
  if (names.length > MAX_MESSAGE_ATTRIBUTES) {
    throw errors.invalidParameterValue(
      `Number of message attributes [${names.length}] exceeds the allowed maximum [${MAX_MESSAGE_ATTRIBUTES}].`,
    );
  }
  const attributes = new Map<string, MessageAttribute>();
  for (const name of names) {
    const value = raw[name] ?? {};
    if (
      !/^[A-Za-z0-9_.-]{1,256}$/.test(name) ||
      /^(aws\.|amazon\.)/i.test(name) ||
      name.startsWith(".") ||
      name.endsWith(".") ||
      name.includes("..")
    ) {
      throw errors.invalidParameterValue(`Message (user) attribute name '${name}' is invalid.`);
    }
    const dataType = optionalString(value, "DataType");
    if (dataType === undefined || dataType === "") {
      throw errors.invalidParameterValue(
        `The message attribute '${name}' must contain a non-empty attribute type.`,
      );
    }
    const baseType = dataType.split(".", 1)[0];
    if (baseType === "Binary") {
      const encoded = optionalString(value, "BinaryValue");
      const bytes = encoded === undefined ? undefined : Buffer.from(encoded, "base64");
      if (bytes === undefined || bytes.length === 0) {
        throw errors.invalidParameterValue(
          `The message attribute '${name}' with type 'Binary' must use field 'Binary'.`,
        );
      }
      attributes.set(name, { dataType, binaryValue: bytes });
    } else if (baseType === "String" || baseType === "Number") {
      const stringValue = optionalString(value, "StringValue");
      if (stringValue === undefined || stringValue === "") {
        throw errors.invalidParameterValue(
          `The message attribute '${name}' must contain a non-empty value of type '${baseType}'.`,
        );
      }
      if (baseType === "Number" && !NUMBER_VALUE.test(stringValue)) {
        throw errors.invalidParameterValue(
          `Can't cast the value of message (user) attribute '${name}' to a number.`,
        );
      }
      if (!ALLOWED_MESSAGE_CHARACTERS.test(stringValue)) {
        throw errors.invalidMessageContents(`Invalid characters found in message attribute '${name}'.`);
      }
      attributes.set(name, { dataType, stringValue });
    } else {
      throw errors.invalidParameterValue(
        `The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
      );
    }
  }
  return attributes;
}

/** The AWSTraceHeader system attribute, the only one a sender may set. */
function parseTraceHeader(input: JsonObject): string | undefined {
  const raw = optionalObjectMap(input, "MessageSystemAttributes");
  if (raw === undefined) return undefined;
  let traceHeader: string | undefined;
  for (const [name, value] of Object.entries(raw)) {
    if (name !== "AWSTraceHeader") {
      throw errors.invalidParameterValue(`Message system attribute name '${name}' is invalid.`);
    }
    if (optionalString(value, "DataType") !== "String") {
      throw errors.invalidParameterValue("Message system attribute AWSTraceHeader must have type 'String'.");
    }
    traceHeader = optionalString(value, "StringValue");
    if (traceHeader === undefined || traceHeader === "") {
      throw errors.invalidParameterValue(
        "Message system attribute AWSTraceHeader must have a non-empty value.",
      );
    }
  }
  return traceHeader;
}

function attributesToWire(attributes: ReadonlyMap<string, MessageAttribute>): JsonObject {
  const wire: JsonObject = {};
  for (const [name, attribute] of attributes) {
    wire[name] =
      attribute.binaryValue !== undefined
        ? { DataType: attribute.dataType, BinaryValue: attribute.binaryValue.toString("base64") }
        : { DataType: attribute.dataType, StringValue: attribute.stringValue };
  }
  return wire;
}

/** "All" and ".*" select everything; "prefix.*" selects by prefix; anything else is an exact name. */
function selectMessageAttributes(
  attributes: ReadonlyMap<string, MessageAttribute>,
  requested: readonly string[],
): Map<string, MessageAttribute> {
  const selected = new Map<string, MessageAttribute>();
  for (const [name, attribute] of attributes) {
    const wanted = requested.some((pattern) => {
      if (pattern === "All" || pattern === ".*") return true;
      if (pattern.endsWith(".*")) return name.startsWith(pattern.slice(0, -1));
      return pattern === name;
    });
    if (wanted) selected.set(name, attribute);
  }
  return selected;
}

// A receipt handle names its queue, its message and which receive issued it; the random part keeps
// handles unguessable in the way the real ones are.
interface ReceiptHandleParts {
  queueName: string;
  messageId: string;
}

function makeReceiptHandle(queueName: string, messageId: string, receiveCount: number): string {
  const nonce = randomBytes(12).toString("hex");
  return Buffer.from(`${queueName}:${messageId}:${receiveCount}:${nonce}`, "utf8").toString("base64url");
}

function parseReceiptHandle(receiptHandle: string): ReceiptHandleParts | undefined {
  const parts = Buffer.from(receiptHandle, "base64url").toString("utf8").split(":");
  if (parts.length !== 4) return undefined;
  const [queueName, messageId, receiveCount] = parts;
  if (queueName === undefined || messageId === undefined || !/^\d+$/.test(receiveCount ?? ""))
    return undefined;
  return { queueName, messageId };
}

// ---------------------------------------------------------------------------------------------
// The service.

interface CallContext {
  /** Aborted when the client goes away, so a long poll stops before it takes messages for nobody. */
  readonly signal: AbortSignal;
  readonly senderId: string;
}

type Operation = (input: JsonObject, call: CallContext) => JsonObject | Promise<JsonObject>;

/** Real SQS operations this server does not serve; they get UnsupportedOperation, not InvalidAction. */
const unservedOperations = new Set([
  "AddPermission",
  "CancelMessageMoveTask",
  "ChangeMessageVisibilityBatch",
  "ListDeadLetterSourceQueues",
  "ListMessageMoveTasks",
  "ListQueueTags",
  "RemovePermission",
  "StartMessageMoveTask",
  "TagQueue",
  "UntagQueue",
]);

class SqsService {
  private readonly queues = new Map<string, Queue>();
  private closing = false;
  endpoint = "";

  constructor(
    readonly accountId: string,
    readonly region: string,
  ) {}

  readonly operations: Readonly<Record<string, Operation>> = {
    CreateQueue: (input) => this.createQueue(input),
    GetQueueUrl: (input) => this.getQueueUrl(input),
    ListQueues: (input) => this.listQueues(input),
    DeleteQueue: (input) => this.deleteQueue(input),
    PurgeQueue: (input) => this.purgeQueue(input),
    GetQueueAttributes: (input) => this.getQueueAttributes(input),
    SetQueueAttributes: (input) => this.setQueueAttributes(input),
    SendMessage: (input, call) => this.sendMessage(input, call),
    SendMessageBatch: (input, call) => this.sendMessageBatch(input, call),
    ReceiveMessage: (input, call) => this.receiveMessage(input, call),
    DeleteMessage: (input) => this.deleteMessage(input),
    DeleteMessageBatch: (input) => this.deleteMessageBatch(input),
    ChangeMessageVisibility: (input) => this.changeMessageVisibility(input),
  };

  get isClosing(): boolean {
    return this.closing;
  }

  queueUrl(queueName: string): string {
    return `${this.endpoint}/${this.accountId}/${queueName}`;
  }

  depthOf(queueName: string): QueueDepth | undefined {
    return this.queues.get(queueName)?.depth(Date.now());
  }

  queueNames(): string[] {
    return [...this.queues.keys()].sort();
  }

  /** Ends every long poll: each sees the closing flag and answers with what it has, nothing. */
  shutdown(): void {
    this.closing = true;
    for (const queue of this.queues.values()) queue.wakeWaiters();
  }

  private queueFromUrl(input: JsonObject): Queue {
    const queueUrl = requiredString(input, "QueueUrl");
    let path = queueUrl;
    try {
      path = new URL(queueUrl).pathname;
    } catch {
      // Not an absolute URL: read it as a path.
    }
    const queueName = path
      .split("/")
      .filter((segment) => segment !== "")
      .at(-1);
    if (queueName === undefined || !QUEUE_NAME.test(queueName)) throw errors.invalidAddress(queueUrl);
    const queue = this.queues.get(queueName);
    if (queue === undefined) throw errors.queueDoesNotExist();
    return queue;
  }

  /** Validated queue attributes as given; numeric ones normalised to numbers. */
  private parseQueueAttributes(raw: Record<string, string>): {
    numeric: Partial<QueueSettings>;
    opaque: Map<string, string>;
  } {
    const numeric: Partial<QueueSettings> = {};
    const opaque = new Map<string, string>();
    for (const [name, value] of Object.entries(raw)) {
      if (isNumericQueueAttribute(name)) {
        const { min, max } = numericQueueAttributes[name];
        const parsed = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
        if (!(parsed >= min && parsed <= max)) {
          throw errors.invalidAttributeValue(name, `Must be an integer from ${min} to ${max}.`);
        }
        numeric[name] = parsed;
      } else if (opaqueQueueAttributes.has(name)) {
        opaque.set(name, value);
      } else if (refusedQueueAttributes.has(name)) {
        throw errors.invalidAttributeName(`${name} (this development server serves standard queues only)`);
      } else {
        throw errors.invalidAttributeName(name);
      }
    }
    return { numeric, opaque };
  }

  private createQueue(input: JsonObject): JsonObject {
    const queueName = requiredString(input, "QueueName");
    if (queueName.endsWith(".fifo")) {
      throw errors.invalidParameterValue("FIFO queues are not served by this development server.");
    }
    if (!QUEUE_NAME.test(queueName)) {
      throw errors.invalidParameterValue(
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
      );
    }
    const { numeric, opaque } = this.parseQueueAttributes(optionalStringMap(input, "Attributes") ?? {});
    const existing = this.queues.get(queueName);
    if (existing !== undefined) {
      // Idempotent only when the attributes given agree with the queue's, as on the real service.
      for (const [name, value] of Object.entries(numeric)) {
        if (existing.settings[name as NumericQueueAttribute] !== value) throw errors.queueNameExists(name);
      }
      for (const [name, value] of opaque) {
        if (existing.opaqueAttributes.get(name) !== value) throw errors.queueNameExists(name);
      }
      return { QueueUrl: this.queueUrl(queueName) };
    }
    const settings = Object.fromEntries(
      Object.entries(numericQueueAttributes).map(([name, { defaultValue }]) => [name, defaultValue]),
    ) as QueueSettings;
    const queue = new Queue(queueName, { ...settings, ...numeric }, Date.now());
    for (const [name, value] of opaque) queue.opaqueAttributes.set(name, value);
    this.queues.set(queueName, queue);
    return { QueueUrl: this.queueUrl(queueName) };
  }

  private getQueueUrl(input: JsonObject): JsonObject {
    const queueName = requiredString(input, "QueueName");
    optionalString(input, "QueueOwnerAWSAccountId");
    if (!this.queues.has(queueName)) throw errors.queueDoesNotExist();
    return { QueueUrl: this.queueUrl(queueName) };
  }

  private listQueues(input: JsonObject): JsonObject {
    const prefix = optionalString(input, "QueueNamePrefix") ?? "";
    const maxResults = integerInRange(input, "MaxResults", 1, 1000);
    const nextToken = optionalString(input, "NextToken");
    const names = this.queueNames().filter((name) => name.startsWith(prefix));
    // The token is the last name of the previous page; names are listed in sorted order.
    const start = nextToken === undefined ? 0 : names.findIndex((name) => name > nextToken);
    const remaining = start < 0 ? [] : names.slice(start);
    const page = remaining.slice(0, maxResults ?? 1000);
    const output: JsonObject = {};
    if (page.length > 0) output.QueueUrls = page.map((name) => this.queueUrl(name));
    const lastName = page.at(-1);
    if (maxResults !== undefined && remaining.length > page.length && lastName !== undefined) {
      output.NextToken = lastName;
    }
    return output;
  }

  private deleteQueue(input: JsonObject): JsonObject {
    const queue = this.queueFromUrl(input);
    this.queues.delete(queue.name);
    queue.deleted = true;
    queue.wakeWaiters();
    return {};
  }

  private purgeQueue(input: JsonObject): JsonObject {
    const queue = this.queueFromUrl(input);
    queue.messages.clear();
    queue.wakeWaiters();
    return {};
  }

  private getQueueAttributes(input: JsonObject): JsonObject {
    const queue = this.queueFromUrl(input);
    const requested = optionalStringList(input, "AttributeNames") ?? [];
    for (const name of requested) {
      if (name !== "All" && !readableQueueAttributes.has(name)) throw errors.invalidAttributeName(name);
    }
    const wantsAll = requested.includes("All");
    const now = Date.now();
    const depth = queue.depth(now);
    const available: Record<string, string> = {
      ApproximateNumberOfMessages: String(depth.visible),
      ApproximateNumberOfMessagesNotVisible: String(depth.inFlight),
      ApproximateNumberOfMessagesDelayed: String(depth.delayed),
      QueueArn: `arn:aws:sqs:${this.region}:${this.accountId}:${queue.name}`,
      CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.lastModifiedAt / 1000)),
    };
    for (const name of Object.keys(numericQueueAttributes) as NumericQueueAttribute[]) {
      available[name] = String(queue.settings[name]);
    }
    for (const [name, value] of queue.opaqueAttributes) available[name] = value;
    const attributes: Record<string, string> = {};
    for (const [name, value] of Object.entries(available)) {
      if (wantsAll || requested.includes(name)) attributes[name] = value;
    }
    return Object.keys(attributes).length > 0 ? { Attributes: attributes } : {};
  }

  private setQueueAttributes(input: JsonObject): JsonObject {
    const queue = this.queueFromUrl(input);
    const raw = optionalStringMap(input, "Attributes");
    if (raw === undefined) throw errors.missingParameter("Attributes");
    const { numeric, opaque } = this.parseQueueAttributes(raw);
    Object.assign(queue.settings, numeric);
    for (const [name, value] of opaque) queue.opaqueAttributes.set(name, value);
    queue.lastModifiedAt = Date.now();
    // A shorter retention or a changed wait time can matter to pending long polls.
    queue.wakeWaiters();
    return {};
  }

  /** Validates and stores one message; the batch path reports a thrown error per entry. */
  private enqueue(queue: Queue, input: JsonObject, call: CallContext): JsonObject {
    const body = optionalString(input, "MessageBody");
    if (body === undefined || body === "") throw errors.missingParameter("MessageBody");
    if (!ALLOWED_MESSAGE_CHARACTERS.test(body)) {
      throw errors.invalidMessageContents("Invalid characters found. Deleted message body.");
    }
    const delaySeconds =
      integerInRange(input, "DelaySeconds", 0, MAX_DELAY_SECONDS) ?? queue.settings.DelaySeconds;
    const messageAttributes = parseMessageAttributes(input);
    const traceHeader = parseTraceHeader(input);
    if (optionalString(input, "MessageGroupId") !== undefined) {
      throw errors.invalidParameterValue(
        "The request include parameter MessageGroupId that is not valid for this queue type.",
      );
    }
    const size = Buffer.byteLength(body) + messageAttributeSize(messageAttributes);
    if (size > queue.settings.MaximumMessageSize) {
      throw errors.invalidParameterValue(
        `One or more parameters are invalid. Reason: Message must be shorter than ${queue.settings.MaximumMessageSize} bytes.`,
      );
    }
    const now = Date.now();
    const message: StoredMessage = {
      messageId: randomUUID(),
      body,
      md5OfBody: md5Hex(Buffer.from(body, "utf8")),
      messageAttributes,
      traceHeader,
      senderId: call.senderId,
      sentAt: now,
      visibleAt: now + delaySeconds * 1000,
      receiveCount: 0,
      firstReceivedAt: undefined,
      currentReceiptHandle: undefined,
    };
    queue.messages.set(message.messageId, message);
    if (delaySeconds === 0) queue.wakeWaiters();
    const output: JsonObject = { MessageId: message.messageId, MD5OfMessageBody: message.md5OfBody };
    if (messageAttributes.size > 0) output.MD5OfMessageAttributes = md5OfMessageAttributes(messageAttributes);
    if (traceHeader !== undefined) {
      output.MD5OfMessageSystemAttributes = md5OfMessageAttributes(
        new Map([["AWSTraceHeader", { dataType: "String", stringValue: traceHeader }]]),
      );
    }
    return output;
  }

  private sendMessage(input: JsonObject, call: CallContext): JsonObject {
    return this.enqueue(this.queueFromUrl(input), input, call);
  }

  private sendMessageBatch(input: JsonObject, call: CallContext): JsonObject {
    const queue = this.queueFromUrl(input);
    const entries = batchEntries(input);
    const totalBytes = entries.reduce((sum, entry) => {
      const body = member(entry, "MessageBody");
      return sum + (typeof body === "string" ? Buffer.byteLength(body) : 0);
    }, 0);
    if (totalBytes > queue.settings.MaximumMessageSize) {
      throw errors.batchRequestTooLong(totalBytes, queue.settings.MaximumMessageSize);
    }
    return this.runBatch(entries, (entry) => this.enqueue(queue, entry, call));
  }

  private runBatch(entries: readonly JsonObject[], perEntry: (entry: JsonObject) => JsonObject): JsonObject {
    const successful: JsonObject[] = [];
    const failed: JsonObject[] = [];
    for (const entry of entries) {
      const id = requiredString(entry, "Id");
      try {
        successful.push({ Id: id, ...perEntry(entry) });
      } catch (error) {
        if (!(error instanceof SqsError)) throw error;
        failed.push({
          Id: id,
          SenderFault: error.fault === "Sender",
          Code: error.queryCode,
          Message: error.message,
        });
      }
    }
    return { Successful: successful, Failed: failed };
  }

  private async receiveMessage(input: JsonObject, call: CallContext): Promise<JsonObject> {
    const queue = this.queueFromUrl(input);
    const maxMessages = integerInRange(input, "MaxNumberOfMessages", 1, MAX_BATCH_ENTRIES) ?? 1;
    const visibilityTimeout =
      integerInRange(input, "VisibilityTimeout", 0, MAX_VISIBILITY_TIMEOUT_SECONDS) ??
      queue.settings.VisibilityTimeout;
    const waitSeconds =
      integerInRange(input, "WaitTimeSeconds", 0, MAX_LONG_POLL_SECONDS) ??
      queue.settings.ReceiveMessageWaitTimeSeconds;
    const attributePatterns = optionalStringList(input, "MessageAttributeNames") ?? [];
    const systemAttributeNames = [
      ...(optionalStringList(input, "AttributeNames") ?? []),
      ...(optionalStringList(input, "MessageSystemAttributeNames") ?? []),
    ];
    for (const name of systemAttributeNames) {
      if (name !== "All" && !messageSystemAttributeNames.has(name)) throw errors.invalidAttributeName(name);
    }
    optionalString(input, "ReceiveRequestAttemptId");

    const deadline = Date.now() + waitSeconds * 1000;
    for (;;) {
      if (queue.deleted) throw errors.queueDoesNotExist();
      if (call.signal.aborted || this.closing) return {};
      const now = Date.now();
      const taken = this.takeVisible(queue, maxMessages, visibilityTimeout, now);
      if (taken.length > 0) {
        return {
          Messages: taken.map((message) =>
            this.messageToWire(message, attributePatterns, systemAttributeNames),
          ),
        };
      }
      if (now >= deadline) return {};
      await this.waitForChange(queue, Math.min(deadline, queue.nextVisibleAt(now) ?? deadline), call.signal);
    }
  }

  private takeVisible(
    queue: Queue,
    maxMessages: number,
    visibilityTimeout: number,
    now: number,
  ): StoredMessage[] {
    queue.dropExpired(now);
    const taken: StoredMessage[] = [];
    for (const message of queue.messages.values()) {
      if (taken.length >= maxMessages) break;
      if (message.visibleAt > now) continue;
      message.receiveCount += 1;
      message.firstReceivedAt ??= now;
      message.visibleAt = now + visibilityTimeout * 1000;
      message.currentReceiptHandle = makeReceiptHandle(queue.name, message.messageId, message.receiveCount);
      taken.push(message);
    }
    return taken;
  }

  /** Resolves on any change to the queue, at `until`, when the client leaves, or on close. */
  private waitForChange(queue: Queue, until: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        queue.waiters.delete(finish);
        signal.removeEventListener("abort", finish);
        resolve();
      };
      const timer = setTimeout(finish, Math.max(0, until - Date.now()));
      queue.waiters.add(finish);
      signal.addEventListener("abort", finish, { once: true });
    });
  }

  private messageToWire(
    message: StoredMessage,
    attributePatterns: readonly string[],
    systemAttributeNames: readonly string[],
  ): JsonObject {
    const wire: JsonObject = {
      MessageId: message.messageId,
      ReceiptHandle: message.currentReceiptHandle,
      MD5OfBody: message.md5OfBody,
      Body: message.body,
    };
    const wantsAll = systemAttributeNames.includes("All");
    const systemAttributes: Record<string, string | undefined> = {
      SenderId: message.senderId,
      SentTimestamp: String(message.sentAt),
      ApproximateReceiveCount: String(message.receiveCount),
      ApproximateFirstReceiveTimestamp:
        message.firstReceivedAt === undefined ? undefined : String(message.firstReceivedAt),
      AWSTraceHeader: message.traceHeader,
    };
    const attributes: Record<string, string> = {};
    for (const [name, value] of Object.entries(systemAttributes)) {
      if (value !== undefined && (wantsAll || systemAttributeNames.includes(name))) attributes[name] = value;
    }
    if (Object.keys(attributes).length > 0) wire.Attributes = attributes;
    const selected = selectMessageAttributes(message.messageAttributes, attributePatterns);
    if (selected.size > 0) {
      wire.MessageAttributes = attributesToWire(selected);
      wire.MD5OfMessageAttributes = md5OfMessageAttributes(selected);
    }
    return wire;
  }

  /**
   * The message a receipt handle may act on, or undefined when that message is gone (deleted,
   * purged, expired). Handles this server did not issue for this queue, and handles superseded by
   * a later receive, are refused.
   */
  private messageForHandle(queue: Queue, receiptHandle: string): StoredMessage | undefined {
    const parts = parseReceiptHandle(receiptHandle);
    if (parts === undefined || parts.queueName !== queue.name) {
      throw errors.receiptHandleIsInvalid(receiptHandle, "It was not issued by this queue.");
    }
    const message = queue.messages.get(parts.messageId);
    if (message !== undefined && message.currentReceiptHandle !== receiptHandle) {
      throw errors.receiptHandleIsInvalid(
        receiptHandle,
        "The message has been received again since; use the latest receipt handle.",
      );
    }
    return message;
  }

  private removeByHandle(queue: Queue, input: JsonObject): JsonObject {
    const message = this.messageForHandle(queue, requiredString(input, "ReceiptHandle"));
    if (message !== undefined) queue.messages.delete(message.messageId);
    return {};
  }

  private deleteMessage(input: JsonObject): JsonObject {
    return this.removeByHandle(this.queueFromUrl(input), input);
  }

  private deleteMessageBatch(input: JsonObject): JsonObject {
    const queue = this.queueFromUrl(input);
    return this.runBatch(batchEntries(input), (entry) => this.removeByHandle(queue, entry));
  }

  private changeMessageVisibility(input: JsonObject): JsonObject {
    const queue = this.queueFromUrl(input);
    const receiptHandle = requiredString(input, "ReceiptHandle");
    const visibilityTimeout = integerInRange(input, "VisibilityTimeout", 0, MAX_VISIBILITY_TIMEOUT_SECONDS);
    if (visibilityTimeout === undefined) throw errors.missingParameter("VisibilityTimeout");
    const message = this.messageForHandle(queue, receiptHandle);
    if (message === undefined) {
      throw errors.receiptHandleIsInvalid(receiptHandle, "Its message no longer exists.");
    }
    const now = Date.now();
    if (message.visibleAt <= now) throw errors.messageNotInflight();
    message.visibleAt = now + visibilityTimeout * 1000;
    queue.wakeWaiters();
    return {};
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP.

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    request.on("data", (chunk: Buffer) => {
      total += chunk.length;
      // Past the limit the rest is read and dropped, so the client still gets its answer.
      if (total <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    request.on("end", () => {
      if (total > MAX_REQUEST_BYTES) reject(errors.requestTooLarge());
      else resolve(Buffer.concat(chunks));
    });
    request.on("error", reject);
    request.on("close", () => {
      if (!request.complete)
        reject(new Error("The client closed the connection before sending its request."));
    });
  });
}

/** The access key id in a SigV4 Authorization header, unverified. */
function senderIdOf(request: IncomingMessage): string {
  const match = /Credential=([^/,\s]+)\//.exec(request.headers.authorization ?? "");
  return match?.[1] ?? "AIDAANONYMOUSSENDER00";
}

function isQueryProtocol(request: IncomingMessage, body: Buffer): boolean {
  const contentType = request.headers["content-type"] ?? "";
  if (contentType.includes("application/x-www-form-urlencoded")) return true;
  if (/[?&]Action=/.test(request.url ?? "")) return true;
  return request.headers["x-amz-target"] === undefined && /(^|&)Action=/.test(body.toString("utf8", 0, 4096));
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

class HttpFrontEnd {
  private readonly openResponses = new Set<ServerResponse>();

  constructor(private readonly service: SqsService) {}

  get hasOpenResponses(): boolean {
    return this.openResponses.size > 0;
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.openResponses.add(response);
    const requestId = randomUUID();
    const abort = new AbortController();
    response.on("close", () => {
      this.openResponses.delete(response);
      if (!response.writableFinished) abort.abort();
    });
    try {
      const body = await readBody(request);
      if (isQueryProtocol(request, body)) {
        this.sendQueryProtocolRefusal(response, requestId);
        return;
      }
      const output = await this.dispatch(request, body, abort.signal);
      this.send(response, requestId, 200, output);
    } catch (error) {
      const sqsError =
        error instanceof SqsError
          ? error
          : errors.internal(error instanceof Error ? error.message : "Unexpected failure.");
      this.send(
        response,
        requestId,
        sqsError.httpStatus,
        { __type: sqsError.shapeId, message: sqsError.message },
        {
          "x-amzn-query-error": `${sqsError.queryCode};${sqsError.fault}`,
        },
      );
    }
  }

  private async dispatch(request: IncomingMessage, body: Buffer, signal: AbortSignal): Promise<JsonObject> {
    if (request.method !== "POST") {
      throw errors.invalidAction(
        `This server answers POST / with the AWS JSON 1.0 protocol; got ${request.method ?? "no method"}.`,
      );
    }
    const target = request.headers["x-amz-target"];
    if (typeof target !== "string" || target === "") {
      throw errors.invalidAction(
        `Missing X-Amz-Target header; this server speaks the AWS JSON 1.0 protocol (X-Amz-Target: ${SERVICE_TARGET_PREFIX}.<Operation>).`,
      );
    }
    const separator = target.lastIndexOf(".");
    const servicePrefix = target.slice(0, separator);
    const operationName = target.slice(separator + 1);
    const operation =
      servicePrefix === SERVICE_TARGET_PREFIX ? this.service.operations[operationName] : undefined;
    if (operation === undefined) {
      if (servicePrefix === SERVICE_TARGET_PREFIX && unservedOperations.has(operationName)) {
        throw errors.unsupportedOperation(`${operationName} is not served by this development SQS server.`);
      }
      throw errors.invalidAction(`The action ${target} is not valid for this web service.`);
    }
    let input: unknown = {};
    const text = body.toString("utf8").trim();
    if (text !== "") {
      try {
        input = JSON.parse(text);
      } catch {
        throw errors.serialization("The request body is not valid JSON.");
      }
    }
    if (!isJsonObject(input)) throw errors.serialization("The request body must be a JSON object.");
    return operation(input, { signal, senderId: senderIdOf(request) });
  }

  private send(
    response: ServerResponse,
    requestId: string,
    status: number,
    payload: JsonObject,
    extraHeaders: Record<string, string> = {},
  ): void {
    if (response.destroyed || response.headersSent) return;
    const body = Buffer.from(JSON.stringify(payload), "utf8");
    response.writeHead(status, {
      "content-type": JSON_CONTENT_TYPE,
      "content-length": body.length,
      "x-amzn-requestid": requestId,
      ...extraHeaders,
      // While closing, every answer ends its connection so the keep-alive sockets drain.
      ...(this.service.isClosing ? { connection: "close" } : {}),
    });
    response.end(body);
  }

  /** Query-protocol clients parse XML errors, so the refusal is in the form they can show. */
  private sendQueryProtocolRefusal(response: ServerResponse, requestId: string): void {
    if (response.destroyed || response.headersSent) return;
    const message =
      "This SQS server speaks only the AWS JSON 1.0 protocol (POST / with X-Amz-Target: AmazonSQS.<Operation> " +
      "and Content-Type: application/x-amz-json-1.0); the query protocol (Action=...) is not served. " +
      "Use an SDK version that speaks JSON to SQS.";
    const body = Buffer.from(
      '<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">' +
        `<Error><Type>Sender</Type><Code>InvalidAction</Code><Message>${escapeXml(message)}</Message><Detail/></Error>` +
        `<RequestId>${requestId}</RequestId></ErrorResponse>`,
      "utf8",
    );
    response.writeHead(400, {
      "content-type": "text/xml",
      "content-length": body.length,
      "x-amzn-requestid": requestId,
      "x-amzn-query-error": "InvalidAction;Sender",
      ...(this.service.isClosing ? { connection: "close" } : {}),
    });
    response.end(body);
  }
}

function isWildcardHost(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "";
}

function endpointHost(host: string): string {
  // Clients cannot connect to a wildcard address; loopback reaches a server listening on it.
  if (host === "::") return "[::1]";
  if (isWildcardHost(host)) return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

export async function startSqsServer(options: SqsServerOptions = {}): Promise<SqsServer> {
  const host = options.host ?? "127.0.0.1";
  const accountId = options.accountId ?? "000000000000";
  const region = options.region ?? "us-east-1";
  if (!/^\d{12}$/.test(accountId)) throw new Error(`accountId must be 12 digits, got "${accountId}"`);

  const service = new SqsService(accountId, region);
  const frontEnd = new HttpFrontEnd(service);
  const httpServer = createServer((request, response) => {
    void frontEnd.handle(request, response);
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(options.port ?? 0, host, () => {
      httpServer.off("error", reject);
      resolve();
    });
  });
  const { port } = httpServer.address() as AddressInfo;
  service.endpoint = `http://${endpointHost(host)}:${port}`;

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve, reject) => {
      service.shutdown();
      httpServer.close((error) => (error === undefined ? resolve() : reject(error)));
      httpServer.closeIdleConnections();
      // Answers written after shutdown carry `connection: close`; a client that holds its socket
      // open anyway is cut off once the answers have had a moment to flush.
      const dropStragglers = setTimeout(
        () => httpServer.closeAllConnections(),
        frontEnd.hasOpenResponses ? CLOSE_GRACE_MS : 0,
      );
      httpServer.once("close", () => clearTimeout(dropStragglers));
    });
    return closed;
  };

  return {
    endpoint: service.endpoint,
    accountId,
    region,
    queueUrl: (queueName) => service.queueUrl(queueName),
    queueDepth: (queueName) => service.depthOf(queueName),
    queueNames: () => service.queueNames(),
    close,
  };
}
