import { describe, expect, it } from "vitest";
import { compressTimes, localizePolicy } from "../../../dev/demo.js";
import { parsePolicy } from "../../../src/api/v1alpha1/index.js";
import { examplePolicies } from "../../../dev/demo.js";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

function examples(): unknown[] {
  return examplePolicies().flatMap((example) =>
    parseAllDocuments(readFileSync(example.file, "utf8")).map((d) => d.toJS() as unknown),
  );
}

describe("compressTimes", () => {
  it("divides every duration of the examples and keeps them valid policies", () => {
    for (const example of examples()) {
      const compressed = compressTimes(example, 10);
      const parsed = parsePolicy(compressed);
      expect(parsed.ok, JSON.stringify(parsed)).toBe(true);
    }
  });

  it("writes a preset out as its rules, and shortens windows, periods, load and cooldowns", () => {
    const policy = {
      kind: "MLAutoscalePolicy",
      spec: {
        workload: { template: { model: { loadSeconds: 180 }, shutdown: { maxRequestSeconds: 1800 } } },
        scaling: {
          pollingIntervalSeconds: 30,
          scaleToZero: { cooldownSeconds: 600 },
          behavior: { preset: "Conservative" },
        },
      },
    };
    expect(compressTimes(policy, 10).spec).toEqual({
      workload: { template: { model: { loadSeconds: 18 }, shutdown: { maxRequestSeconds: 180 } } },
      scaling: {
        pollingIntervalSeconds: 3,
        scaleToZero: { cooldownSeconds: 60 },
        behavior: {
          scaleUp: {
            stabilizationWindowSeconds: 12,
            selectPolicy: "Max",
            policies: [{ type: "Pods", value: 1, periodSeconds: 6 }],
          },
          scaleDown: {
            stabilizationWindowSeconds: 90,
            selectPolicy: "Max",
            policies: [{ type: "Pods", value: 1, periodSeconds: 30 }],
          },
        },
      },
    });
  });

  it("gives a policy without a behavior the default preset's rules, shortened", () => {
    const compressed = compressTimes({ kind: "MLAutoscalePolicy", spec: { scaling: {} } }, 5) as unknown as {
      spec: { scaling: { behavior: { scaleDown: { stabilizationWindowSeconds: number } } } };
    };
    expect(compressed.spec.scaling.behavior.scaleDown.stabilizationWindowSeconds).toBe(60);
  });

  it("never goes below one second where the API requires a period", () => {
    const policy = {
      kind: "MLAutoscalePolicy",
      spec: {
        scaling: {
          pollingIntervalSeconds: 5,
          behavior: { scaleUp: { policies: [{ type: "Pods", value: 1, periodSeconds: 2 }] } },
        },
      },
    };
    const compressed = compressTimes(policy, 100).spec.scaling;
    expect(compressed.pollingIntervalSeconds).toBe(1);
    expect(compressed.behavior.scaleUp?.policies?.[0]?.periodSeconds).toBe(1);
  });
});

describe("localizePolicy", () => {
  it("points Prometheus, SQS and Kafka addresses at the local cluster and changes nothing else", () => {
    const policy = {
      kind: "MLAutoscalePolicy",
      spec: {
        scaling: {
          metrics: {
            gpuUtilization: {
              targetUtilization: 70,
              prometheus: { serverAddress: "http://prometheus.monitoring.svc:9090" },
            },
          },
          triggers: [
            {
              type: "aws-sqs-queue",
              metadata: { queueURL: "https://sqs.us-east-1.amazonaws.com/1/q", queueLength: "2" },
            },
            { type: "kafka", metadata: { bootstrapServers: "kafka:9092", topic: "t" } },
            { type: "rabbitmq", metadata: { queueName: "q" } },
          ],
        },
      },
    };
    const local = localizePolicy(policy, {
      KUBECONFIG: "k",
      PROMETHEUS_URL: "http://127.0.0.1:9",
      SQS_ENDPOINT: "http://127.0.0.1:8",
      KAFKA_BROKERS: "127.0.0.1:7",
    });
    expect(local.spec.scaling.metrics.gpuUtilization.prometheus.serverAddress).toBe("http://127.0.0.1:9");
    expect(local.spec.scaling.triggers).toEqual([
      {
        type: "aws-sqs-queue",
        metadata: {
          queueURL: "https://sqs.us-east-1.amazonaws.com/1/q",
          queueLength: "2",
          awsEndpoint: "http://127.0.0.1:8",
        },
      },
      { type: "kafka", metadata: { bootstrapServers: "127.0.0.1:7", topic: "t" } },
      { type: "rabbitmq", metadata: { queueName: "q" } },
    ]);
    expect(policy.spec.scaling.triggers[1]?.metadata["bootstrapServers"]).toBe("kafka:9092");
  });

  it("points an LLM server's Prometheus, and its activation query's own, at the local one", () => {
    const policy = {
      kind: "MLAutoscalePolicy",
      spec: {
        scaling: {
          metrics: {
            server: {
              engine: "vLLM",
              prometheus: { serverAddress: "http://prometheus.monitoring.svc:9090" },
              activation: { query: "sum(q)", serverAddress: "http://gateway-prometheus:9090" },
            },
          },
        },
      },
    };
    const local = localizePolicy(policy, { KUBECONFIG: "k", PROMETHEUS_URL: "http://127.0.0.1:9" });
    expect(local.spec.scaling.metrics.server).toEqual({
      engine: "vLLM",
      prometheus: { serverAddress: "http://127.0.0.1:9" },
      activation: { query: "sum(q)", serverAddress: "http://127.0.0.1:9" },
    });
  });
});
