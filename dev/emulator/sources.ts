// Where each kind of work source is: the broker addresses the emulator was started with. A policy's
// trigger names the queue; its address (a Service in the cluster, a secret) means nothing here.
import {
  createKafkaClient,
  createRabbitMqClient,
  createSqsClient,
  type QueueClient,
  type StaticCredentials,
} from "../../src/brokers/index.js";
import type { ConnectSource } from "./emulator.js";
import type { BrokerSource, WorkSource } from "./model.js";

export interface BrokerEndpoints {
  rabbitmqUrl?: string;
  sqsEndpoint?: string;
  sqsCredentials?: StaticCredentials;
  kafkaBrokers?: readonly string[];
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export function describeSource(source: WorkSource, endpoints: BrokerEndpoints): string {
  switch (source.type) {
    case "http":
      return "HTTP requests held in the emulator";
    case "rabbitmq":
      return `RabbitMQ queue ${source.queueName} at ${endpoints.rabbitmqUrl ? hostOf(endpoints.rabbitmqUrl) : "(no --rabbitmq-url)"}`;
    case "aws-sqs-queue":
      return `SQS queue ${source.queueURL} at ${endpoints.sqsEndpoint ?? "(no --sqs-endpoint)"}`;
    case "kafka":
      return `Kafka topic ${source.topic} (group ${source.consumerGroup}) at ${endpoints.kafkaBrokers?.join(",") ?? "(no --kafka-brokers)"}`;
  }
}

/** Opens clients on the given brokers; a source whose broker was not given fails, and is retried. */
export function brokerConnector(endpoints: BrokerEndpoints): ConnectSource {
  return (source: BrokerSource): Promise<QueueClient> => {
    const missing = (flag: string): Promise<never> =>
      Promise.reject(
        new Error(`${describeSource(source, endpoints)}: the emulator was started without --${flag}`),
      );
    switch (source.type) {
      case "rabbitmq":
        if (!endpoints.rabbitmqUrl) return missing("rabbitmq-url");
        return createRabbitMqClient({ url: endpoints.rabbitmqUrl, queueName: source.queueName });
      case "aws-sqs-queue":
        if (!endpoints.sqsEndpoint) return missing("sqs-endpoint");
        return createSqsClient({
          queueUrl: source.queueURL,
          region: source.awsRegion,
          endpoint: endpoints.sqsEndpoint,
          ...(endpoints.sqsCredentials !== undefined && { credentials: endpoints.sqsCredentials }),
          // The endpoint is the local cluster's: the queue is the emulator's to make.
          createIfMissing: true,
        });
      case "kafka":
        if (!endpoints.kafkaBrokers?.length) return missing("kafka-brokers");
        return createKafkaClient({
          brokers: endpoints.kafkaBrokers,
          topic: source.topic,
          consumerGroup: source.consumerGroup,
          partitions: source.partitions,
        });
    }
  };
}
