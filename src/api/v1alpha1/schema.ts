// The MLAutoscalePolicy API, v1alpha1. This zod schema is the single source of truth: TypeScript types are
// inferred from it, `npm run generate` turns it into the CRD's OpenAPI schema (descriptions, defaults, enums,
// bounds, CEL rules), and the CLI and the controller validate with it.
import { z } from "zod";
import { ENGINES_WITHOUT_MODEL_LABEL, SERVER_ENGINES } from "../../model-servers/engines.js";
import { SERVER_TRIGGER_NAMES } from "../../model-servers/promql.js";
import { QUANTITY_PATTERN } from "../../runtime/quantity.js";
import { celValidations, refineRules, rule } from "./rules.js";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PERCENT = /^[0-9]+%$/;
const URL_PATH = /^\/[^\s]*$/;
/** A Kubernetes label value (IsValidLabelValue), less its length. */
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/**
 * The API server keeps one item per key in a list-map, and one of each value in a set, and refuses
 * duplicates; zod refuses them too, on the duplicate item as the API server does.
 */
function uniqueItems<T>(
  keyOf: (item: T) => string,
  keyName: string,
): (
  items: T[],
  ctx: { addIssue: (issue: { code: "custom"; message: string; path: number[] }) => void },
) => void {
  return (items, ctx) => {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      const key = keyOf(item);
      if (seen.has(key)) {
        ctx.addIssue({
          code: "custom",
          message: `duplicate ${keyName} "${key}": each may appear once`,
          path: [index],
        });
      }
      seen.add(key);
    });
  };
}

const positiveInt = (description: string) => z.number().int().min(1).describe(description);

const QUANTITY_MESSAGE = "must be a Kubernetes quantity such as 500m, 2 or 4Gi";
/** Longest quantity string: the API server prices CEL rules by the longest input they may see. */
const MAX_QUANTITY_LENGTH = 64;

const quantity = (description: string) =>
  z
    .union([
      z.number().int().min(0),
      z.string().max(MAX_QUANTITY_LENGTH).regex(QUANTITY_PATTERN, QUANTITY_MESSAGE),
    ])
    .describe(description)
    .meta({
      "x-kubernetes-validations": [
        { rule: "type(self) == int ? self >= 0 : isQuantity(self)", message: QUANTITY_MESSAGE },
      ],
    });

/** A quantity that must be greater than zero (metric targets: a target of 0 makes the HPA invalid). */
const positiveQuantity = (description: string) =>
  z
    .union([
      z.number().int().min(1, "must be greater than 0"),
      z
        .string()
        .max(MAX_QUANTITY_LENGTH)
        .regex(QUANTITY_PATTERN, QUANTITY_MESSAGE)
        .refine((v) => Number.parseFloat(v) > 0, "must be greater than 0"),
    ])
    .describe(description)
    .meta({
      "x-kubernetes-validations": [
        {
          rule: "type(self) == int ? self > 0 : (isQuantity(self) && quantity(self).isGreaterThan(quantity('0')))",
          message: "must be a quantity greater than 0, such as 10 or 500m",
        },
      ],
    });

const intOrPercent = (description: string) =>
  z
    .union([
      z.number().int().min(0),
      z
        .string()
        .regex(PERCENT, 'must be a whole number or a percentage such as "50%"')
        .refine((v) => Number.parseInt(v, 10) <= 100, 'must be a percentage between "0%" and "100%"'),
    ])
    .describe(description)
    .meta({
      "x-kubernetes-validations": [
        {
          rule: "type(self) == int ? self >= 0 : self.matches('^[0-9]+%$') && int(self.replace('%', '')) <= 100",
          message: 'must be a non-negative whole number or a percentage between "0%" and "100%"',
        },
      ],
    });

// ---------------------------------------------------------------------------------------------------------
// workload

const ENV_RULES = [
  rule<{ value?: string; secretKeyRef?: object; configMapKeyRef?: object }>(
    "[has(self.value), has(self.secretKeyRef), has(self.configMapKeyRef)].filter(x, x).size() <= 1",
    "set at most one of value, secretKeyRef and configMapKeyRef",
    (env) => [env.value, env.secretKeyRef, env.configMapKeyRef].filter((x) => x !== undefined).length <= 1,
  ),
];

const EnvVar = z
  .strictObject({
    name: z.string().min(1).describe("Name of the environment variable."),
    value: z.string().optional().describe("Literal value."),
    secretKeyRef: z
      .strictObject({
        name: z.string().min(1).describe("Secret name."),
        key: z.string().min(1).describe("Key in the Secret."),
      })
      .optional()
      .describe("Take the value from a Secret key. The container reads it; the operator never does."),
    configMapKeyRef: z
      .strictObject({
        name: z.string().min(1).describe("ConfigMap name."),
        key: z.string().min(1).describe("Key in the ConfigMap."),
      })
      .optional()
      .describe("Take the value from a ConfigMap key."),
  })
  .describe("An environment variable: a literal value or a reference to a Secret or ConfigMap key.")
  .meta({ "x-kubernetes-validations": celValidations(ENV_RULES) })
  .superRefine(refineRules(ENV_RULES));

const PORTS_RULES = [
  rule<{ http: number; metrics: number }>(
    "self.http != self.metrics",
    "http and metrics must be different ports",
    (p) => p.http !== p.metrics,
  ),
];

const ResourceAmounts = z
  .strictObject({
    cpu: quantity("CPU, e.g. 2 or 500m.").optional(),
    memory: quantity("Memory, e.g. 4Gi.").optional(),
  })
  .describe("CPU and memory amounts.");

export const WorkloadTemplateSchema = z
  .strictObject({
    image: z.string().min(1).describe("Container image of the model server or worker."),
    command: z.array(z.string()).optional().describe("Entrypoint override."),
    args: z.array(z.string()).optional().describe("Arguments to the entrypoint."),
    env: z
      .array(EnvVar)
      .max(128)
      .superRefine(uniqueItems((e) => e.name, "name"))
      .optional()
      .describe("Environment variables. MODEL_PATH is set from model.path.")
      .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] }),
    ports: z
      .strictObject({
        http: z.number().int().min(1).max(65535).default(8080).describe("Port serving requests and probes."),
        metrics: z
          .number()
          .int()
          .min(1)
          .max(65535)
          .default(8000)
          .describe("Port serving Prometheus metrics."),
      })
      // The full default rather than {}: the API server checks a default against the CEL rules without
      // filling in the nested defaults first, and `self.http` on {} fails the CRD's creation.
      .prefault({ http: 8080, metrics: 8000 })
      .describe("Container ports.")
      .meta({ "x-kubernetes-validations": celValidations(PORTS_RULES) })
      .superRefine(refineRules(PORTS_RULES)),
    model: z
      .strictObject({
        path: z
          .string()
          .min(1)
          .optional()
          .describe("Where the model is; passed to the container as MODEL_PATH."),
        loadSeconds: z
          .number()
          .int()
          .min(1)
          .max(3600)
          .default(60)
          .describe(
            "How long the model takes to load before the server is ready. Sizes the startup probe, the " +
              "rollout deadline and KEDA's initial cooldown.",
          ),
      })
      .prefault({})
      .describe("The model the server loads."),
    probes: z
      .strictObject({
        healthPath: z
          .string()
          .regex(URL_PATH, "must be an absolute URL path")
          .default("/health")
          .describe("HTTP path for liveness and startup."),
        readyPath: z
          .string()
          .regex(URL_PATH, "must be an absolute URL path")
          .default("/ready")
          .describe("HTTP path for readiness."),
      })
      .prefault({})
      .describe("HTTP probe paths on ports.http."),
    resources: z
      .strictObject({
        requests: ResourceAmounts.optional().describe(
          "Requested CPU and memory (the HPA's utilization base).",
        ),
        limits: ResourceAmounts.optional().describe("CPU and memory limits."),
      })
      .optional()
      .describe("CPU and memory requests and limits. GPUs are set with gpu."),
    gpu: z
      .strictObject({
        count: z.number().int().min(1).max(16).default(1).describe("GPUs per replica (request = limit)."),
        resourceName: z
          .string()
          .regex(/^[a-z0-9.-]+\/[a-z0-9.-]+$/, "must be an extended resource name such as nvidia.com/gpu")
          .default("nvidia.com/gpu")
          .describe("Extended resource name of the GPU, e.g. nvidia.com/gpu or amd.com/gpu."),
      })
      .optional()
      .describe("GPUs per replica. Omit for CPU-only workloads."),
    shutdown: z
      .strictObject({
        drainSeconds: z
          .number()
          .int()
          .min(0)
          .max(300)
          .default(5)
          .describe("preStop sleep so endpoints and load balancers stop sending traffic before SIGTERM."),
        maxRequestSeconds: z
          .number()
          .int()
          .min(1)
          .max(86400)
          .default(30)
          .describe(
            "The longest request or job the workload serves. The termination grace period is drainSeconds + " +
              "maxRequestSeconds + 5, so scale-down never kills a request in flight.",
          ),
      })
      .prefault({})
      .describe("Graceful shutdown on scale-down and rollouts."),
    serviceAccountName: z
      .string()
      .regex(DNS_SUBDOMAIN, "must be a valid ServiceAccount name")
      .optional()
      .describe("ServiceAccount the pods run as."),
    podLabels: z.record(z.string(), z.string()).optional().describe("Extra labels on the pods."),
    podAnnotations: z.record(z.string(), z.string()).optional().describe("Extra annotations on the pods."),
  })
  .describe("The container the operator runs as a Deployment it owns.");

export const TargetRef = z
  .strictObject({
    apiVersion: z.literal("apps/v1").default("apps/v1").describe("API version of the workload."),
    kind: z.enum(["Deployment", "StatefulSet"]).describe("Kind of the workload."),
    name: z
      .string()
      .regex(DNS_SUBDOMAIN, "must be a valid object name")
      .describe("Name, in the policy's namespace."),
  })
  .describe("An existing workload to autoscale. It is never modified or deleted.");

const WORKLOAD_RULES = [
  rule<{ template?: object; targetRef?: object }>(
    "has(self.template) != has(self.targetRef)",
    "set exactly one of workload.template and workload.targetRef",
    (w) => (w.template !== undefined) !== (w.targetRef !== undefined),
  ),
];

const Workload = z
  .strictObject({
    template: WorkloadTemplateSchema.optional(),
    targetRef: TargetRef.optional(),
  })
  .describe("What to scale: a template the operator deploys, or a reference to an existing workload.")
  .meta({ "x-kubernetes-validations": celValidations(WORKLOAD_RULES) })
  .superRefine(refineRules(WORKLOAD_RULES));

// ---------------------------------------------------------------------------------------------------------
// scaling

const Prometheus = z
  .strictObject({
    serverAddress: z
      .url({ protocol: /^https?$/ })
      .describe("Prometheus URL, e.g. http://prometheus.monitoring:9090."),
    query: z
      .string()
      .min(1)
      .optional()
      .describe("PromQL returning the total across the workload's pods. Defaults to a query over the pods."),
  })
  .describe("Read the metric from Prometheus (a KEDA prometheus trigger).");

const EXTERNAL_METRIC_RULES = [
  rule<{ targetAverageValue?: unknown; targetValue?: unknown }>(
    "has(self.targetAverageValue) != has(self.targetValue)",
    "set exactly one of targetAverageValue and targetValue",
    (m) => (m.targetAverageValue !== undefined) !== (m.targetValue !== undefined),
  ),
];

const ExternalMetric = z
  .strictObject({
    metricName: z.string().min(1).describe("External metric name served by a metrics adapter."),
    selector: z
      .record(z.string(), z.string())
      .optional()
      .describe("Label selector (matchLabels) of the metric."),
    targetAverageValue: positiveQuantity("Target value per pod (HPA AverageValue).").optional(),
    targetValue: positiveQuantity("Target for the metric's total (HPA Value).").optional(),
  })
  .describe("An HPA External metric.")
  .meta({ "x-kubernetes-validations": celValidations(EXTERNAL_METRIC_RULES) })
  .superRefine(refineRules(EXTERNAL_METRIC_RULES));

const utilization = (description: string) =>
  z.number().int().min(1, "must be at least 1: a target of 0 is invalid").max(1000).describe(description);

const SERVER_ADDRESS = Prometheus.shape.serverAddress;

type ServerForRules = {
  engine: string;
  modelName?: string;
  activation?: { serverAddress?: string };
  prometheus?: object;
};

const SERVER_RULES = [
  rule<ServerForRules>(
    "!has(self.activation) || has(self.activation.serverAddress) || has(self.prometheus)",
    "activation needs a Prometheus address: set activation.serverAddress, or prometheus.serverAddress",
    (s) =>
      s.activation === undefined || s.activation.serverAddress !== undefined || s.prometheus !== undefined,
    ".activation",
  ),
  rule<ServerForRules>(
    `!has(self.modelName) || !(self.engine in [${ENGINES_WITHOUT_MODEL_LABEL.map((e) => `'${e}'`).join(", ")}])`,
    `the metrics of ${ENGINES_WITHOUT_MODEL_LABEL.join(", ")} carry no model label (one model per server): remove modelName`,
    (s) => s.modelName === undefined || !ENGINES_WITHOUT_MODEL_LABEL.includes(s.engine),
    ".modelName",
  ),
  rule<ServerForRules>(
    `!has(self.modelName) || has(self.prometheus) || (size(self.modelName) <= 63 && self.modelName.matches('${LABEL_VALUE.source}'))`,
    "without prometheus, the HPA selects the model's series by label: modelName must then be a label value " +
      "(at most 63 letters, digits, '-', '_' or '.', beginning and ending with a letter or digit)",
    (s) =>
      s.modelName === undefined ||
      s.prometheus !== undefined ||
      (s.modelName.length <= 63 && LABEL_VALUE.test(s.modelName)),
    ".modelName",
  ),
];

const ServerMetrics = z
  .strictObject({
    engine: z
      .enum(SERVER_ENGINES)
      .describe(
        "The LLM server: vLLM, TGI, SGLang or Triton (TensorRT-LLM backend). The operator knows its metric " +
          "names, every one each engine has used, and reads whichever the server exports.",
      ),
    waitingRequestsPerReplica: z
      .number()
      .positive("must be greater than 0")
      .optional()
      .describe("Target requests waiting in each replica's queue (vLLM num_requests_waiting and the like)."),
    kvCacheUtilization: z
      .number()
      .int()
      .min(1, "must be at least 1: a target of 0 is invalid")
      .max(100)
      .optional()
      .describe("Target KV-cache use per replica, percent."),
    runningRequestsPerReplica: z
      .number()
      .positive("must be greater than 0")
      .optional()
      .describe("Target requests in each replica's running batch: for latency below what queueing allows."),
    modelName: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .describe("Read only the series of this served model (the engine's model label)."),
    prometheus: z
      .strictObject({ serverAddress: SERVER_ADDRESS })
      .optional()
      .describe(
        "Read the metrics from this Prometheus (KEDA prometheus triggers). Without it the HPA reads them " +
          "from the custom metrics API, served by a metrics adapter with the rules in docs/engines.",
      ),
    activation: z
      .strictObject({
        query: z
          .string()
          .min(1)
          .describe(
            "PromQL returning one value that exists while the workload is at zero: requests waiting upstream " +
              "of the server, e.g. a gateway's or router's queue.",
          ),
        serverAddress: SERVER_ADDRESS.optional().describe(
          "Prometheus to query; defaults to prometheus.serverAddress.",
        ),
        activationValue: z
          .number()
          .min(0)
          .optional()
          .describe("Wake from zero when the query's value is above this (default 0)."),
        targetAverageValue: z
          .number()
          .positive("must be greater than 0")
          .optional()
          .describe(
            "Requests waiting upstream per replica while scaled up; defaults to the waiting-requests target.",
          ),
      })
      .optional()
      .describe(
        "The signal that wakes the workload from zero (replicas.min 0): the server's own metrics vanish with " +
          "its last replica.",
      ),
  })
  .describe(
    "Scale an LLM server on its own signals: requests waiting, KV-cache use, requests running. Without " +
      "targets, the engine's defaults apply (docs/engines); with any, exactly those set.",
  )
  .meta({ "x-kubernetes-validations": celValidations(SERVER_RULES) })
  .superRefine(refineRules(SERVER_RULES));

const Metrics = z
  .strictObject({
    cpu: z
      .strictObject({ targetUtilization: utilization("Target CPU utilization, percent of requests.") })
      .optional()
      .describe("Scale on CPU utilization."),
    memory: z
      .strictObject({ targetUtilization: utilization("Target memory utilization, percent of requests.") })
      .optional()
      .describe("Scale on memory utilization."),
    queueDepth: z
      .strictObject({
        metricName: z.string().min(1).default("inference_queue_depth").describe("Per-pod queue metric name."),
        targetAverageValue: positiveQuantity("Target queue depth per pod."),
        prometheus: Prometheus.optional(),
      })
      .optional()
      .describe(
        "Scale on the inference queue depth: an HPA Pods metric through the custom metrics API, or a KEDA " +
          "prometheus trigger when prometheus is set and KEDA is the engine.",
      ),
    gpuUtilization: z
      .strictObject({
        targetUtilization: utilization("Target GPU utilization per pod, percent."),
        metricName: z
          .string()
          .min(1)
          .default("DCGM_FI_DEV_GPU_UTIL")
          .describe("GPU utilization metric (the DCGM exporter's by default)."),
        prometheus: Prometheus.optional(),
      })
      .optional()
      .describe("Scale on GPU utilization: a KEDA prometheus trigger, or an HPA External metric."),
    server: ServerMetrics.optional(),
    external: z
      .array(ExternalMetric)
      // Before 1.34 the API server prices a CEL rule on an int-or-string as if the value could fill a whole
      // request (maxLength is not read: k8s.io/apiserver pkg/cel/common/schemas.go), times the list's
      // maxItems. The targets' quantity rules at 10 items take 94% of the per-rule budget on 1.30 and at 11
      // exceed it; 8 leaves room for 1.31 to 1.33, which the tests do not run.
      .max(8)
      .superRefine(uniqueItems((m) => m.metricName, "metricName"))
      .optional()
      .describe("HPA External metrics, e.g. requests_per_second.")
      .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["metricName"] }),
  })
  .describe("Metrics to scale on. The autoscaler takes the largest replica count any of them asks for.");

/**
 * KEDA scalers whose metadata the API checks: the keys that must be present, the key holding the target
 * (per replica), and the key activationValue is written to.
 */
export const WELL_KNOWN_TRIGGER_KEYS: Readonly<
  Record<string, { required: readonly string[]; target: string; activation: string }>
> = {
  rabbitmq: { required: ["queueName", "mode", "value"], target: "value", activation: "activationValue" },
  kafka: {
    required: ["bootstrapServers", "consumerGroup", "topic", "lagThreshold"],
    target: "lagThreshold",
    activation: "activationLagThreshold",
  },
  "aws-sqs-queue": {
    required: ["queueURL", "awsRegion", "queueLength"],
    target: "queueLength",
    activation: "activationQueueLength",
  },
  prometheus: {
    required: ["serverAddress", "query", "threshold"],
    target: "threshold",
    activation: "activationThreshold",
  },
};

const TRIGGER_RULES = Object.entries(WELL_KNOWN_TRIGGER_KEYS).map(([type, keys]) =>
  rule<{ type: string; metadata: Record<string, string> }>(
    `self.type != '${type}' || [${keys.required.map((k) => `'${k}'`).join(", ")}].all(k, k in self.metadata)`,
    `${type} triggers need metadata ${keys.required.join(", ")}`,
    (t) => t.type !== type || keys.required.every((k) => k in t.metadata),
    ".metadata",
  ),
);

const Trigger = z
  .strictObject({
    type: z
      .string()
      .regex(
        /^[a-z0-9-]+$/,
        "must be a KEDA scaler type such as rabbitmq, kafka, aws-sqs-queue or prometheus",
      )
      .describe(
        "KEDA scaler type. rabbitmq, kafka, aws-sqs-queue and prometheus have their metadata checked.",
      ),
    name: z
      .string()
      .regex(DNS_LABEL, "must be a DNS label")
      .max(40)
      .optional()
      .describe("Trigger name (defaults to the type and its position)."),
    metadata: z.record(z.string(), z.string()).describe("Scaler metadata, as in KEDA's documentation."),
    activationValue: z
      .number()
      .min(0)
      .optional()
      .describe(
        "The trigger is active (scales from zero) only above this value. Written to the scaler's activation " +
          "key (activationValue, activationLagThreshold, activationQueueLength, activationThreshold).",
      ),
    metricType: z.enum(["AverageValue", "Value"]).optional().describe("How KEDA's HPA compares the metric."),
  })
  .describe("A KEDA trigger.")
  .meta({ "x-kubernetes-validations": celValidations(TRIGGER_RULES) })
  .superRefine(refineRules(TRIGGER_RULES));

const ScalingPolicy = z
  .strictObject({
    type: z.enum(["Pods", "Percent"]).describe("Pods: change by a number of pods. Percent: by a percentage."),
    value: z.number().int().min(1).describe("Amount of change allowed per period."),
    periodSeconds: z.number().int().min(1).max(1800).describe("Length of the period."),
  })
  .describe("A rate limit on scaling.");

const ScalingRules = z
  .strictObject({
    stabilizationWindowSeconds: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .optional()
      .describe("Look back this long and take the most conservative recommendation."),
    selectPolicy: z
      .enum(["Max", "Min", "Disabled"])
      .optional()
      .describe("Which policy wins; Disabled forbids."),
    policies: z
      .array(ScalingPolicy)
      .optional()
      .describe("Rate limits; at least one unless selectPolicy is Disabled.")
      .meta({ "x-kubernetes-list-type": "atomic" }),
    tolerance: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe(
        "Ignore metric ratios within this fraction of 1 (HPA tolerance). Kubernetes 1.35+: on older clusters it " +
          "is left out and the policy says so (Reconciled reason FeatureUnavailable).",
      ),
  })
  .describe("Scaling rules in one direction (HPA autoscaling/v2 behavior).");

export const BEHAVIOR_PRESETS = ["Realtime", "Batch", "Conservative"] as const;

const BEHAVIOR_RULES = [
  rule<{ preset?: string; scaleUp?: object; scaleDown?: object }>(
    "!has(self.preset) || (!has(self.scaleUp) && !has(self.scaleDown))",
    "set either preset or explicit scaleUp/scaleDown rules, not both",
    (b) => b.preset === undefined || (b.scaleUp === undefined && b.scaleDown === undefined),
  ),
  rule<{ preset?: string; scaleUp?: object; scaleDown?: object }>(
    "has(self.preset) || has(self.scaleUp) || has(self.scaleDown)",
    "set preset, scaleUp or scaleDown",
    (b) => b.preset !== undefined || b.scaleUp !== undefined || b.scaleDown !== undefined,
  ),
];

const Behavior = z
  .strictObject({
    preset: z
      .enum(BEHAVIOR_PRESETS)
      .optional()
      .describe(
        "Realtime: scale up at once, down slowly. Batch: scale up in large steps, drain slowly. " +
          "Conservative: one pod at a time, for expensive GPUs.",
      ),
    scaleUp: ScalingRules.optional(),
    scaleDown: ScalingRules.optional(),
  })
  .describe("How fast to scale: a preset, or explicit scaleUp and scaleDown rules.")
  .meta({ "x-kubernetes-validations": celValidations(BEHAVIOR_RULES) })
  .superRefine(refineRules(BEHAVIOR_RULES));

const ScaleToZero = z
  .strictObject({
    activationValue: z
      .number()
      .min(0)
      .optional()
      .describe("Default activation threshold for triggers that set none: wake from zero above it."),
    cooldownSeconds: z
      .number()
      .int()
      .min(0)
      .max(86400)
      .default(300)
      .describe("Scale to zero only after the triggers have been inactive this long (KEDA cooldownPeriod)."),
    initialCooldownSeconds: z
      .number()
      .int()
      .min(0)
      .max(86400)
      .optional()
      .describe("Never scale to zero this soon after creation. Defaults to twice model.loadSeconds."),
  })
  .describe("Scale-to-zero settings; they apply when replicas.min is 0.");

/** Names the operator gives the triggers it generates from scaling.metrics. */
export const GENERATED_TRIGGER_NAMES: readonly string[] = [
  "cpu",
  "memory",
  "queue-depth",
  "gpu-utilization",
  ...SERVER_TRIGGER_NAMES,
];

type NamedTriggers = readonly { name?: string }[];

const TRIGGER_LIST_RULES = [
  rule<NamedTriggers>(
    "self.all(a, !has(a.name) || self.exists_one(b, has(b.name) && b.name == a.name))",
    "trigger names must be unique",
    (triggers) => {
      const names = triggers.flatMap((t) => (t.name === undefined ? [] : [t.name]));
      return new Set(names).size === names.length;
    },
  ),
  rule<NamedTriggers>(
    `self.all(t, !has(t.name) || !(t.name in [${GENERATED_TRIGGER_NAMES.map((n) => `'${n}'`).join(", ")}]))`,
    `trigger names ${GENERATED_TRIGGER_NAMES.join(", ")} are taken by the triggers generated from scaling.metrics`,
    (triggers) => triggers.every((t) => t.name === undefined || !GENERATED_TRIGGER_NAMES.includes(t.name)),
  ),
];

const Scaling = z
  .strictObject({
    engine: z
      .enum(["Auto", "HPA", "KEDA"])
      .default("Auto")
      .describe("Auto: KEDA when triggers or scale to zero need it and KEDA is installed, else HPA."),
    metrics: Metrics.prefault({}),
    triggers: z
      .array(Trigger)
      .max(16)
      .superRefine(refineRules(TRIGGER_LIST_RULES))
      .optional()
      .describe("KEDA event triggers (queues, streams, Prometheus).")
      .meta({
        "x-kubernetes-list-type": "atomic",
        "x-kubernetes-validations": celValidations(TRIGGER_LIST_RULES),
      }),
    behavior: Behavior.prefault({ preset: "Realtime" }),
    scaleToZero: ScaleToZero.optional(),
    pollingIntervalSeconds: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .optional()
      .describe("How often KEDA checks the triggers (default 30)."),
    fallback: z
      .strictObject({
        failureThreshold: positiveInt("Consecutive failed metric reads before falling back."),
        replicas: z.number().int().min(0).describe("Replicas to run while the metrics cannot be read."),
      })
      .optional()
      .describe("KEDA fallback when a scaler keeps failing."),
  })
  .describe("How to scale.");

// ---------------------------------------------------------------------------------------------------------
// the rest of the spec

const AUTHENTICATION_RULES = [
  rule<{ secretRef?: object; triggerAuthenticationRef?: string }>(
    "has(self.secretRef) != has(self.triggerAuthenticationRef)",
    "set exactly one of secretRef and triggerAuthenticationRef",
    (a) => (a.secretRef !== undefined) !== (a.triggerAuthenticationRef !== undefined),
  ),
];

const Authentication = z
  .strictObject({
    secretRef: z
      .strictObject({
        name: z
          .string()
          .regex(DNS_SUBDOMAIN, "must be a valid Secret name")
          .describe("Secret in the namespace."),
        parameters: z
          .array(
            z.strictObject({
              parameter: z.string().min(1).describe("Trigger parameter, e.g. host or password."),
              key: z.string().min(1).describe("Key in the Secret."),
            }),
          )
          .min(1)
          .superRefine(uniqueItems((p) => p.parameter, "parameter"))
          .describe("Trigger parameters and the Secret keys that hold them.")
          .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["parameter"] }),
      })
      .optional()
      .describe(
        "Create a TriggerAuthentication reading these Secret keys (KEDA reads them; the operator never does).",
      ),
    triggerAuthenticationRef: z
      .string()
      .regex(DNS_SUBDOMAIN, "must be a valid object name")
      .optional()
      .describe("Use an existing TriggerAuthentication."),
  })
  .describe("Credentials for the triggers.")
  .meta({ "x-kubernetes-validations": celValidations(AUTHENTICATION_RULES) })
  .superRefine(refineRules(AUTHENTICATION_RULES));

const DISRUPTION_RULES = [
  rule<{ minAvailable?: unknown; maxUnavailable?: unknown }>(
    "has(self.minAvailable) != has(self.maxUnavailable)",
    "set exactly one of minAvailable and maxUnavailable",
    (d) => (d.minAvailable !== undefined) !== (d.maxUnavailable !== undefined),
  ),
];

const Disruption = z
  .strictObject({
    minAvailable: intOrPercent("Pods that must stay available during voluntary disruptions.").optional(),
    maxUnavailable: intOrPercent("Pods that may be unavailable during voluntary disruptions.").optional(),
  })
  .describe(
    "PodDisruptionBudget. Values that could block a node drain (e.g. minAvailable >= replicas.min) are " +
      "corrected and reported in the Ready condition.",
  )
  .meta({ "x-kubernetes-validations": celValidations(DISRUPTION_RULES) })
  .superRefine(refineRules(DISRUPTION_RULES));

const Placement = z
  .strictObject({
    gpuInstanceTypes: z
      .array(z.string().min(1))
      .superRefine(uniqueItems((t) => t, "instance type"))
      .optional()
      .describe("Required node affinity on node.kubernetes.io/instance-type.")
      .meta({ "x-kubernetes-list-type": "set" }),
    preferredNodeLabels: z
      .record(z.string(), z.string())
      .optional()
      .describe("Preferred node labels (weight 100), e.g. workload-type: ml-inference or a warm pool."),
    tolerateGpuTaint: z
      .boolean()
      .default(true)
      .describe("Tolerate the GPU taint (<gpu.resourceName>:NoSchedule) that GPU node pools carry."),
    spreadAcrossZones: z
      .boolean()
      .default(false)
      .describe("Spread replicas across topology.kubernetes.io/zone (best effort)."),
  })
  .describe("Where the pods run.");

export type ScalingInput = z.output<typeof Scaling>;
export type ReplicasInput = { min: number; max: number };

/** True when a metric has a Prometheus source KEDA can poll. */
function prometheusSourced(metrics: ScalingInput["metrics"]): boolean {
  return metrics.queueDepth?.prometheus !== undefined || metrics.gpuUtilization?.prometheus !== undefined;
}

/** Signals only the HPA can read (custom and external metrics APIs). */
export function hpaOnlyMetrics(metrics: ScalingInput["metrics"]): boolean {
  return (
    (metrics.external?.length ?? 0) > 0 ||
    (metrics.queueDepth !== undefined && metrics.queueDepth.prometheus === undefined) ||
    (metrics.gpuUtilization !== undefined && metrics.gpuUtilization.prometheus === undefined) ||
    (metrics.server !== undefined && metrics.server.prometheus === undefined)
  );
}

/** True when the policy can only be served by KEDA. */
export function needsKeda(spec: { replicas: ReplicasInput; scaling: ScalingInput }): boolean {
  return (
    (spec.scaling.triggers?.length ?? 0) > 0 || spec.replicas.min === 0 || spec.scaling.fallback !== undefined
  );
}

type SpecForRules = {
  replicas: ReplicasInput;
  scaling: ScalingInput;
  authentication?: object;
  workload: object;
};

const CEL_HAS_TRIGGERS = "(has(self.scaling.triggers) && size(self.scaling.triggers) > 0)";
const CEL_PROMETHEUS =
  "(has(self.scaling.metrics) && ((has(self.scaling.metrics.queueDepth) && has(self.scaling.metrics.queueDepth.prometheus)) || (has(self.scaling.metrics.gpuUtilization) && has(self.scaling.metrics.gpuUtilization.prometheus))))";
const CEL_HPA_ONLY =
  "(has(self.scaling.metrics) && ((has(self.scaling.metrics.external) && size(self.scaling.metrics.external) > 0) || (has(self.scaling.metrics.queueDepth) && !has(self.scaling.metrics.queueDepth.prometheus)) || (has(self.scaling.metrics.gpuUtilization) && !has(self.scaling.metrics.gpuUtilization.prometheus)) || (has(self.scaling.metrics.server) && !has(self.scaling.metrics.server.prometheus))))";
const CEL_HAS_SERVER = "(has(self.scaling.metrics) && has(self.scaling.metrics.server))";
const CEL_HAS_ACTIVATION = `(${CEL_HAS_SERVER} && has(self.scaling.metrics.server.activation))`;
const CEL_NEEDS_KEDA = `(${CEL_HAS_TRIGGERS} || self.replicas.min == 0 || has(self.scaling.fallback))`;
const CEL_ANY_METRIC =
  "(has(self.scaling.metrics) && (has(self.scaling.metrics.cpu) || has(self.scaling.metrics.memory) || has(self.scaling.metrics.queueDepth) || has(self.scaling.metrics.gpuUtilization) || has(self.scaling.metrics.server) || (has(self.scaling.metrics.external) && size(self.scaling.metrics.external) > 0)))";

export const SPEC_RULES = [
  rule<SpecForRules>(
    `${CEL_ANY_METRIC} || ${CEL_HAS_TRIGGERS}`,
    "set at least one metric under scaling.metrics or one trigger under scaling.triggers",
    (s) =>
      (s.scaling.triggers?.length ?? 0) > 0 ||
      Object.values(s.scaling.metrics).some((m) => (Array.isArray(m) ? m.length > 0 : m !== undefined)),
    ".scaling",
  ),
  // A policy with scaling.metrics.server is told what wakes it by the next rule, on its activation field.
  rule<SpecForRules>(
    `self.replicas.min != 0 || ${CEL_HAS_TRIGGERS} || ${CEL_PROMETHEUS} || ${CEL_HAS_SERVER}`,
    "replicas.min 0 (scale to zero) needs an event trigger: scaling.triggers or a metric with prometheus",
    (s) =>
      s.replicas.min !== 0 ||
      (s.scaling.triggers?.length ?? 0) > 0 ||
      prometheusSourced(s.scaling.metrics) ||
      s.scaling.metrics.server !== undefined,
    ".replicas.min",
  ),
  rule<SpecForRules>(
    `self.replicas.min != 0 || !${CEL_HAS_SERVER} || ${CEL_HAS_ACTIVATION} || ${CEL_HAS_TRIGGERS}`,
    "replicas.min 0 with scaling.metrics.server: the server's metrics vanish with its last replica, so " +
      "nothing would wake it; set scaling.metrics.server.activation to a signal that exists at zero " +
      "replicas (a gateway's or router's queue), or add a queue trigger to scaling.triggers",
    (s) =>
      s.replicas.min !== 0 ||
      s.scaling.metrics.server === undefined ||
      s.scaling.metrics.server.activation !== undefined ||
      (s.scaling.triggers?.length ?? 0) > 0,
    ".scaling.metrics.server.activation",
  ),
  rule<SpecForRules>(
    `!${CEL_HAS_ACTIVATION} || self.replicas.min == 0`,
    "scaling.metrics.server.activation wakes a workload from zero: it applies only with replicas.min 0",
    (s) => s.scaling.metrics.server?.activation === undefined || s.replicas.min === 0,
    ".scaling.metrics.server.activation",
  ),
  rule<SpecForRules>(
    "!has(self.scaling.engine) || self.scaling.engine != 'HPA' || !" + CEL_NEEDS_KEDA,
    "scaling.engine HPA cannot serve triggers, fallback or replicas.min 0: use Auto or KEDA",
    (s) => s.scaling.engine !== "HPA" || !needsKeda(s),
    ".scaling.engine",
  ),
  rule<SpecForRules>(
    `!((${CEL_NEEDS_KEDA} || (has(self.scaling.engine) && self.scaling.engine == 'KEDA')) && ${CEL_HPA_ONLY})`,
    "scaling.metrics.external, and queueDepth, gpuUtilization or server without prometheus, are read by the HPA only: they cannot be combined with KEDA (engine KEDA, triggers, fallback or replicas.min 0)",
    (s) => !((needsKeda(s) || s.scaling.engine === "KEDA") && hpaOnlyMetrics(s.scaling.metrics)),
    ".scaling.metrics",
  ),
  rule<SpecForRules>(
    "!has(self.scaling.scaleToZero) || self.replicas.min == 0",
    "scaling.scaleToZero applies only with replicas.min 0",
    (s) => s.scaling.scaleToZero === undefined || s.replicas.min === 0,
    ".scaling.scaleToZero",
  ),
  rule<SpecForRules>(
    "!has(self.authentication) || " + CEL_HAS_TRIGGERS,
    "authentication is used by scaling.triggers: add a trigger or remove authentication",
    (s) => s.authentication === undefined || (s.scaling.triggers?.length ?? 0) > 0,
    ".authentication",
  ),
  rule<SpecForRules>(
    "!has(self.scaling.fallback) || self.scaling.fallback.replicas <= self.replicas.max",
    "scaling.fallback.replicas must not exceed replicas.max",
    (s) => s.scaling.fallback === undefined || s.scaling.fallback.replicas <= s.replicas.max,
    ".scaling.fallback.replicas",
  ),
];

const REPLICAS_RULES = [
  rule<ReplicasInput>(
    "self.min <= self.max",
    "replicas.min must not exceed replicas.max",
    (r) => r.min <= r.max,
    ".min",
  ),
];

const Replicas = z
  .strictObject({
    min: z.number().int().min(0).max(1000).default(1).describe("Fewest replicas; 0 scales to zero (KEDA)."),
    max: z.number().int().min(1).max(1000).describe("Most replicas."),
  })
  .describe("Replica bounds.")
  .meta({ "x-kubernetes-validations": celValidations(REPLICAS_RULES) })
  .superRefine(refineRules(REPLICAS_RULES));

export const MLAutoscalePolicySpec = z
  .strictObject({
    workload: Workload,
    replicas: Replicas,
    scaling: Scaling,
    authentication: Authentication.optional(),
    disruption: Disruption.prefault({ maxUnavailable: 1 }),
    placement: Placement.prefault({}),
    paused: z.boolean().default(false).describe("Stop changing children; status reports Paused."),
  })
  .describe("Desired autoscaling of one ML workload.")
  .meta({ "x-kubernetes-validations": celValidations(SPEC_RULES) })
  .superRefine(refineRules(SPEC_RULES));

// ---------------------------------------------------------------------------------------------------------
// status

export const CONDITION_TYPES = ["Ready", "Reconciled", "ScalingActive"] as const;

export const Condition = z
  .object({
    type: z.string().describe("Ready, Reconciled or ScalingActive."),
    status: z.enum(["True", "False", "Unknown"]).describe("Status of the condition."),
    reason: z.string().describe("Machine-readable reason in CamelCase."),
    message: z.string().describe("Human-readable detail."),
    observedGeneration: z.number().int().optional().describe("The spec generation the condition is about."),
    lastTransitionTime: z.string().describe("When the status last changed (RFC 3339)."),
  })
  .describe("A standard condition (metav1.Condition).");

export const ChildRef = z
  .object({
    apiVersion: z.string().describe("API version of the child."),
    kind: z.string().describe("Kind of the child."),
    name: z.string().describe("Name of the child."),
  })
  .describe("An object the policy owns.");

export const MLAutoscalePolicyStatus = z
  .object({
    observedGeneration: z
      .number()
      .int()
      .optional()
      .describe("The last spec generation the operator acted on."),
    engine: z.enum(["HPA", "KEDA"]).optional().describe("The autoscaling engine in use."),
    replicas: z.number().int().optional().describe("Current replicas of the workload."),
    desiredReplicas: z.number().int().optional().describe("Replicas the autoscaler wants."),
    readyReplicas: z.number().int().optional().describe("Ready replicas of the workload."),
    lastScaleTime: z.string().optional().describe("When the autoscaler last changed the replica count."),
    children: z
      .array(ChildRef)
      .optional()
      .describe("Objects the policy owns.")
      .meta({ "x-kubernetes-list-type": "atomic" }),
    conditions: z
      .array(Condition)
      .optional()
      .describe("Ready, Reconciled and ScalingActive.")
      .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] }),
  })
  .describe("Observed state of the policy.");
