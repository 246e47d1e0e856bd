// What a load test aims at: one policy of the file, its namespace, and where its load goes (a broker
// queue its trigger reads, or the local cluster's workload emulator). Pure.
import { parseAllDocuments } from "yaml";
import { parsePolicy, type MLAutoscalePolicy } from "../api/v1alpha1/index.js";
import { PolicyInputError, withoutNulls } from "../render/index.js";

/** A problem a user can fix, said in one line (the command prefixes "error: "). */
export class LoadtestError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LoadtestError";
  }
}

/**
 * The MLAutoscalePolicy documents of a file. Other kinds (a Secret next to the policy, say) are
 * skipped: the file is the one the user applied with kubectl. Throws PolicyInputError with every problem.
 */
export function policiesInText(text: string, file: string): MLAutoscalePolicy[] {
  const problems: string[] = [];
  const policies: MLAutoscalePolicy[] = [];
  parseAllDocuments(text, { prettyErrors: true }).forEach((document, index) => {
    const where = `${file}: document ${index + 1}`;
    if (document.errors.length > 0) {
      for (const e of document.errors) problems.push(`${where}: ${e.message.split("\n")[0] ?? e.message}`);
      return;
    }
    const value: unknown = withoutNulls(document.toJS());
    if (typeof value !== "object" || value === null) return;
    const kind = (value as { kind?: unknown }).kind;
    if (typeof kind === "string" && kind !== "MLAutoscalePolicy") return;
    const name = (value as { metadata?: { name?: unknown } }).metadata?.name;
    const label = typeof name === "string" ? `${where} (${name})` : where;
    const parsed = parsePolicy(value);
    if (parsed.ok) policies.push(parsed.policy);
    else for (const problem of parsed.problems) problems.push(`${label}: ${problem}`);
  });
  if (problems.length > 0) throw new PolicyInputError(problems);
  if (policies.length === 0) throw new PolicyInputError([`${file}: no MLAutoscalePolicy found`]);
  return policies;
}

/** The one policy of the run: the only one in the file, or the one `--policy` names. */
export function selectPolicy(
  policies: readonly MLAutoscalePolicy[],
  name: string | undefined,
  file: string,
): MLAutoscalePolicy {
  const names = policies.map((policy) => policy.metadata.name);
  if (name !== undefined) {
    const found = policies.find((policy) => policy.metadata.name === name);
    if (!found) throw new LoadtestError(`${file} has no policy ${name} (it has ${names.join(", ")})`);
    return found;
  }
  const [only, ...others] = policies;
  if (!only) throw new LoadtestError(`${file}: no MLAutoscalePolicy found`);
  if (others.length > 0) {
    throw new LoadtestError(
      `${file} holds ${policies.length} policies (${names.join(", ")}); a load test runs one: pick it with --policy NAME`,
    );
  }
  return only;
}

/** As kubectl resolves it: the flag, else the document's namespace, else the context's, else default. */
export function resolveNamespace(
  flag: string | undefined,
  policy: MLAutoscalePolicy,
  contextNamespace: string | undefined,
): string {
  return flag ?? policy.metadata.namespace ?? contextNamespace ?? "default";
}

export const SOURCE_KINDS = ["http", "rabbitmq", "sqs", "kafka"] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export type LoadSource =
  | { kind: "rabbitmq"; url: string; queueName: string }
  | { kind: "sqs"; queueUrl: string; region: string; endpoint?: string }
  | { kind: "kafka"; brokers: string[]; topic: string; consumerGroup: string }
  | { kind: "http"; emulatorUrl: string };

export interface SourceFlags {
  source?: SourceKind;
  rabbitmqUrl?: string;
  sqsEndpoint?: string;
  kafkaBrokers?: string;
  emulatorUrl?: string;
}

type Environment = Readonly<Record<string, string | undefined>>;

const TRIGGER_KIND: Record<string, Exclude<SourceKind, "http">> = {
  rabbitmq: "rabbitmq",
  "aws-sqs-queue": "sqs",
  kafka: "kafka",
  "apache-kafka": "kafka",
};

const TRIGGER_OF_KIND: Record<Exclude<SourceKind, "http">, string> = {
  rabbitmq: "rabbitmq",
  sqs: "aws-sqs-queue",
  kafka: "kafka",
};

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/**
 * Where the load goes. A policy with a rabbitmq, aws-sqs-queue or kafka trigger gets its trigger's
 * queue (the first such trigger, unless `--source` names another kind); any other policy gets HTTP-style
 * load, which only the local cluster's workload emulator can take. `notes` says what was chosen when
 * there was a choice.
 */
export function chooseSource(
  policy: MLAutoscalePolicy,
  flags: SourceFlags,
  env: Environment,
): { source: LoadSource; notes: string[] } {
  const name = policy.metadata.name;
  const triggers = (policy.spec.scaling.triggers ?? []).flatMap((trigger, index) => {
    const kind = TRIGGER_KIND[trigger.type];
    return kind ? [{ kind, index, trigger }] : [];
  });
  const kinds = [...new Set(triggers.map((trigger) => trigger.kind))];
  const notes: string[] = [];
  let kind: SourceKind;
  if (flags.source !== undefined) {
    kind = flags.source;
  } else if (kinds.length > 1) {
    throw new LoadtestError(
      `policy ${name} has ${kinds.map((k) => TRIGGER_OF_KIND[k]).join(" and ")} triggers: pick the load's source with --source ${kinds.join("|")}`,
    );
  } else {
    kind = kinds[0] ?? "http";
  }
  if (kind === "http") {
    const emulatorUrl = nonEmpty(flags.emulatorUrl) ?? nonEmpty(env["EMULATOR_URL"]);
    if (emulatorUrl === undefined) {
      throw new LoadtestError(
        `policy ${name} takes HTTP-style load${kinds.length > 0 ? " (--source http)" : " (it has no rabbitmq, aws-sqs-queue or kafka trigger)"}, ` +
          "which loadtest can deliver only to the local cluster's workload emulator: pass --emulator-url or set " +
          "EMULATOR_URL (npm run cluster prints it). Generating HTTP load against your own service is out of scope.",
      );
    }
    return { source: { kind: "http", emulatorUrl: emulatorUrl.replace(/\/+$/, "") }, notes };
  }
  const matching = triggers.filter((trigger) => trigger.kind === kind);
  const chosen = matching[0];
  if (!chosen) {
    throw new LoadtestError(
      `--source ${kind}: policy ${name} has no ${TRIGGER_OF_KIND[kind]} trigger${
        kinds.length > 0 ? ` (it has ${kinds.map((k) => TRIGGER_OF_KIND[k]).join(", ")})` : ""
      }`,
    );
  }
  const at = `spec.scaling.triggers[${chosen.index}]`;
  if (matching.length > 1) {
    notes.push(
      `policy ${name} has ${matching.length} ${TRIGGER_OF_KIND[kind]} triggers: loading the first (${at})`,
    );
  }
  const metadata = chosen.trigger.metadata;
  const need = (key: string): string => {
    const value = nonEmpty(metadata[key]);
    if (value === undefined)
      throw new LoadtestError(`policy ${name}: ${at}.metadata.${key} is required for a load test`);
    return value;
  };
  switch (kind) {
    case "rabbitmq": {
      const queueName = need("queueName");
      const url = nonEmpty(flags.rabbitmqUrl) ?? nonEmpty(env["RABBITMQ_URL"]) ?? nonEmpty(metadata["host"]);
      if (url === undefined) {
        throw new LoadtestError(
          `policy ${name} reads RabbitMQ queue ${queueName}, and loadtest needs the broker's address to publish to it: ` +
            "pass --rabbitmq-url amqp://USER:PASSWORD@HOST:5672/VHOST or set RABBITMQ_URL " +
            "(loadtest never reads the Secret behind the trigger's authentication)",
        );
      }
      return { source: { kind, url, queueName }, notes };
    }
    case "sqs": {
      const queueUrl = need("queueURL");
      const region = nonEmpty(metadata["awsRegion"]) ?? "us-east-1";
      const endpoint =
        nonEmpty(flags.sqsEndpoint) ?? nonEmpty(env["SQS_ENDPOINT"]) ?? nonEmpty(metadata["awsEndpoint"]);
      return { source: { kind, queueUrl, region, ...(endpoint !== undefined && { endpoint }) }, notes };
    }
    case "kafka": {
      const topic = need("topic");
      const consumerGroup = need("consumerGroup");
      const brokers =
        nonEmpty(flags.kafkaBrokers) ??
        nonEmpty(env["KAFKA_BROKERS"]) ??
        nonEmpty(metadata["bootstrapServers"]);
      if (brokers === undefined) {
        throw new LoadtestError(
          `policy ${name} reads Kafka topic ${topic}, and loadtest needs the brokers' addresses to produce to it: ` +
            "pass --kafka-brokers HOST:PORT[,HOST:PORT] or set KAFKA_BROKERS",
        );
      }
      const list = brokers
        .split(",")
        .map((broker) => broker.trim())
        .filter(Boolean);
      return { source: { kind, brokers: list, topic, consumerGroup }, notes };
    }
  }
}
