import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { MLAutoscalePolicy } from "../../../src/api/v1alpha1/index.js";
import {
  chooseSource,
  LoadtestError,
  policiesInText,
  resolveNamespace,
  selectPolicy,
} from "../../../src/loadtest/target.js";
import { PolicyInputError } from "../../../src/render/index.js";

const examples = new URL("../../../examples/", import.meta.url).pathname;
const example = (file: string): MLAutoscalePolicy => {
  const [policy] = policiesInText(readFileSync(`${examples}${file}`, "utf8"), file);
  if (!policy) throw new Error(`no policy in ${file}`);
  return policy;
};
const rabbit = example("2-batch-rabbitmq.yaml");
const sqs = example("3-training-sqs.yaml");
const http = example("1-realtime-inference.yaml");

function withTriggers(triggers: { type: string; metadata: Record<string, string> }[]): MLAutoscalePolicy {
  const copy = structuredClone(rabbit);
  copy.spec.scaling.triggers = triggers;
  return copy;
}

const kafka = withTriggers([
  {
    type: "kafka",
    metadata: {
      bootstrapServers: "kafka.svc:9092",
      consumerGroup: "workers",
      topic: "jobs",
      lagThreshold: "5",
    },
  },
]);

describe("the policies of a file", () => {
  it("skips documents of other kinds and names the document of a bad policy", () => {
    const text = `apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\n---\n${readFileSync(`${examples}2-batch-rabbitmq.yaml`, "utf8")}`;
    expect(policiesInText(text, "p.yaml").map((p) => p.metadata.name)).toEqual(["batch-embeddings"]);
    const bad =
      "apiVersion: mlautoscale.io/v1alpha1\nkind: MLAutoscalePolicy\nmetadata: {name: x}\nspec: {}\n";
    expect(() => policiesInText(bad, "bad.yaml")).toThrow(PolicyInputError);
    expect(() => policiesInText(bad, "bad.yaml")).toThrow(/bad\.yaml: document 1 \(x\): spec/);
    expect(() => policiesInText("kind: ConfigMap\n", "cm.yaml")).toThrow(/no MLAutoscalePolicy/);
  });

  it("takes the only policy, or the one --policy names, and says how to pick among several", () => {
    expect(selectPolicy([rabbit], undefined, "f.yaml")).toBe(rabbit);
    expect(selectPolicy([rabbit, http], "resnet50-inference", "f.yaml")).toBe(http);
    expect(() => selectPolicy([rabbit, http], undefined, "f.yaml")).toThrow(
      "f.yaml holds 2 policies (batch-embeddings, resnet50-inference); a load test runs one: pick it with --policy NAME",
    );
    expect(() => selectPolicy([rabbit], "other", "f.yaml")).toThrow(
      "f.yaml has no policy other (it has batch-embeddings)",
    );
  });

  it("resolves the namespace as kubectl does", () => {
    const namespaced = { ...rabbit, metadata: { ...rabbit.metadata, namespace: "from-file" } };
    expect(resolveNamespace("flag", namespaced, "context")).toBe("flag");
    expect(resolveNamespace(undefined, namespaced, "context")).toBe("from-file");
    expect(resolveNamespace(undefined, rabbit, "context")).toBe("context");
    expect(resolveNamespace(undefined, rabbit, undefined)).toBe("default");
  });
});

describe("where the load goes", () => {
  it("publishes to the rabbitmq trigger's queue at --rabbitmq-url, else RABBITMQ_URL", () => {
    expect(
      chooseSource(rabbit, { rabbitmqUrl: "amqp://u:p@flag:5672" }, { RABBITMQ_URL: "amqp://env" }).source,
    ).toEqual({
      kind: "rabbitmq",
      url: "amqp://u:p@flag:5672",
      queueName: "ml-inference-queue",
    });
    expect(chooseSource(rabbit, {}, { RABBITMQ_URL: "amqp://env" }).source).toMatchObject({
      url: "amqp://env",
    });
  });

  it("says clearly when the broker's address is missing", () => {
    expect(() => chooseSource(rabbit, {}, {})).toThrow(LoadtestError);
    expect(() => chooseSource(rabbit, {}, {})).toThrow(
      /policy batch-embeddings reads RabbitMQ queue ml-inference-queue, .*--rabbitmq-url .* RABBITMQ_URL .*never reads the Secret/,
    );
    const noBrokers = withTriggers([{ type: "kafka", metadata: { consumerGroup: "g", topic: "t" } }]);
    expect(() => chooseSource(noBrokers, {}, {})).toThrow(/Kafka topic t.*--kafka-brokers.*KAFKA_BROKERS/);
  });

  it("sends to the SQS queue URL and region, on --sqs-endpoint, SQS_ENDPOINT, the trigger's awsEndpoint, or AWS", () => {
    expect(chooseSource(sqs, {}, {}).source).toEqual({
      kind: "sqs",
      queueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/training-jobs",
      region: "us-east-1",
    });
    expect(
      chooseSource(sqs, { sqsEndpoint: "http://127.0.0.1:9324" }, { SQS_ENDPOINT: "http://env" }).source,
    ).toMatchObject({
      endpoint: "http://127.0.0.1:9324",
    });
    expect(chooseSource(sqs, {}, { SQS_ENDPOINT: "http://env" }).source).toMatchObject({
      endpoint: "http://env",
    });
  });

  it("produces to the kafka trigger's topic on --kafka-brokers, KAFKA_BROKERS, else its bootstrapServers", () => {
    expect(chooseSource(kafka, {}, {}).source).toEqual({
      kind: "kafka",
      brokers: ["kafka.svc:9092"],
      topic: "jobs",
      consumerGroup: "workers",
    });
    expect(chooseSource(kafka, {}, { KAFKA_BROKERS: "a:1, b:2" }).source).toMatchObject({
      brokers: ["a:1", "b:2"],
    });
    expect(chooseSource(kafka, { kafkaBrokers: "c:3" }, { KAFKA_BROKERS: "a:1" }).source).toMatchObject({
      brokers: ["c:3"],
    });
  });

  it("sends HTTP-style load to the emulator only, and says so without one", () => {
    expect(chooseSource(http, {}, { EMULATOR_URL: "http://127.0.0.1:9000/" }).source).toEqual({
      kind: "http",
      emulatorUrl: "http://127.0.0.1:9000",
    });
    expect(() => chooseSource(http, {}, {})).toThrow(
      /resnet50-inference takes HTTP-style load .*only to the local cluster's workload emulator: pass --emulator-url or set EMULATOR_URL/,
    );
    // --source http overrides a trigger.
    expect(chooseSource(rabbit, { source: "http", emulatorUrl: "http://e" }, {}).source.kind).toBe("http");
  });

  it("asks for --source when the policy has triggers of several brokers, and checks the one named", () => {
    const both = withTriggers([
      { type: "rabbitmq", metadata: { queueName: "q", mode: "QueueLength", value: "5" } },
      { type: "kafka", metadata: { bootstrapServers: "k:9092", consumerGroup: "g", topic: "t" } },
    ]);
    expect(() => chooseSource(both, {}, {})).toThrow("pick the load's source with --source rabbitmq|kafka");
    expect(chooseSource(both, { source: "kafka" }, {}).source.kind).toBe("kafka");
    expect(() => chooseSource(rabbit, { source: "sqs" }, {})).toThrow(
      "--source sqs: policy batch-embeddings has no aws-sqs-queue trigger (it has rabbitmq)",
    );
    const two = withTriggers([
      { type: "rabbitmq", metadata: { queueName: "first", mode: "QueueLength", value: "5" } },
      { type: "rabbitmq", metadata: { queueName: "second", mode: "QueueLength", value: "5" } },
    ]);
    const chosen = chooseSource(two, { rabbitmqUrl: "amqp://x" }, {});
    expect(chosen.source).toMatchObject({ queueName: "first" });
    expect(chosen.notes).toEqual([
      "policy batch-embeddings has 2 rabbitmq triggers: loading the first (spec.scaling.triggers[0])",
    ]);
  });
});
