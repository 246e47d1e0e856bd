// `mlautoscale loadtest`: replays a trace against a live cluster where the policy is applied, by
// publishing its arrivals to the queue the policy's trigger reads (or, for HTTP-style load, to the
// local cluster's workload emulator), and prints what the autoscaler did, beside the simulator's
// prediction with --compare-simulation. Everything is checked before the first message is sent.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { parsePolicy, type MLAutoscalePolicy } from "../api/v1alpha1/index.js";
import { PolicyInputError, renderPolicy } from "../render/index.js";
import type { Clock } from "../runtime/clock.js";
import { errorMessage } from "../runtime/errors.js";
import { MODEL_FLAG_OPTIONS, modelFlags } from "../simulate/command.js";
import type { RunParameters } from "../simulate/format.js";
import { KEDA_DEFAULTS } from "../simulate/keda.js";
import {
  DEFAULT_OPTIONS,
  MODEL_DEFAULTS,
  simulate,
  type ModelParameters,
  type SimulationOptions,
  type SimulationResult,
} from "../simulate/simulate.js";
import { parseTrace, TraceError, type Trace } from "../simulate/trace.js";
import {
  apiPaths,
  ClusterSampler,
  connectKube,
  findTarget,
  type KubeConnection,
  type LivePolicy,
} from "./cluster.js";
import { compareRuns } from "./compare.js";
import {
  formatReportCsv,
  formatReportJson,
  formatReportTable,
  renderReportSvg,
  type LoadtestReport,
} from "./format.js";
import { autoscalerPhases, type ScalingActiveCondition } from "./phases.js";
import { runLoadTest, wallClock, type Progress } from "./run.js";
import { arrivalSchedule, realTimeTrace } from "./schedule.js";
import {
  connectBroker,
  connectEmulator,
  EmulatorClient,
  redact,
  type ConnectSink,
  type EmulatorApi,
  type LoadSink,
} from "./sinks.js";
import {
  chooseSource,
  LoadtestError,
  policiesInText,
  resolveNamespace,
  selectPolicy,
  SOURCE_KINDS,
  type SourceKind,
} from "./target.js";
import { summarize } from "./timeline.js";
import { UsageError } from "../usage-error.js";

export interface CommandIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const LOADTEST_USAGE = `Usage: mlautoscale loadtest -f POLICY.yaml --trace TRACE.csv [options]

Replays a trace against a live cluster where the policy is applied: publishes the trace's arrivals to
the queue the policy's trigger reads (rabbitmq, aws-sqs-queue, kafka), or, for HTTP-style load, to the
local cluster's workload emulator; samples the replicas and the queue every second; prints the timeline.
Never consumes, never deletes a queue or a message it did not publish, never writes to the cluster.
  -f, --filename            the policy file applied to the cluster (other kinds in it are skipped)
      --policy              the policy to test, when the file holds several
      --trace               trace file: CSV (t,rps[,queue][,gpu][,metrics_down]) or JSON, as for simulate
  -n, --namespace           the policy's namespace (default: the file's, else the context's, else default)
      --kubeconfig          kubeconfig file (default: KUBECONFIG, else ~/.kube/config)
      --context             kubeconfig context (default: the current one)
  -o, --output              table (default), json, csv or svg; printed at the end, progress goes to stderr
      --source              http, rabbitmq, sqs or kafka: which trigger gets the load (default: the policy's)
      --rabbitmq-url        amqp://USER:PASSWORD@HOST:PORT/VHOST (default: RABBITMQ_URL)
      --sqs-endpoint        an SQS-compatible endpoint (default: SQS_ENDPOINT, else AWS itself)
      --kafka-brokers       HOST:PORT[,HOST:PORT] (default: KAFKA_BROKERS, else the trigger's bootstrapServers)
      --emulator-url        the local cluster's workload emulator, for HTTP load (default: EMULATOR_URL)
      --time-scale          trace seconds replayed per real second (default 1); every arrival is still
                            sent, so at 60 a second carries a minute of the trace's arrivals
      --settle-seconds      seconds to go on sampling after the last arrival (default 0)
      --compare-simulation  also simulate the same policy and load, and print both
      --service-rate        for the simulation: requests per second one Ready replica serves
                            (default: the emulator's setting for the workload, else ${DEFAULT_OPTIONS.serviceRatePerReplica})
      --scheduling-delay    for the simulation: seconds from pod creation to start (default ${DEFAULT_OPTIONS.schedulingDelaySeconds})
      --scrape-interval, --metric-resolution, --relist-interval, --ack-on-receipt, ...
                            for the simulation: the cluster's parameters, as for simulate (mlautoscale simulate -h)
Ctrl-C stops the load, prints what was observed so far and exits 130.
`;

const OUTPUTS = ["table", "json", "csv", "svg"] as const;
type Output = (typeof OUTPUTS)[number];

/** The I/O of the command, injectable for tests. */
export interface LoadtestDependencies {
  env: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  readFile: (path: string) => Promise<string>;
  connectKube: (options: { kubeconfig?: string; context?: string }) => KubeConnection;
  connectBroker: ConnectSink;
  emulator: (url: string, namespace: string, name: string) => EmulatorApi;
  /** Calls `handler` on Ctrl-C (SIGINT) or SIGTERM until the returned function is called. */
  onInterrupt: (handler: () => void) => () => void;
  /** A live progress line instead of one line every 10 s. */
  stderrIsTTY: boolean;
}

function processInterrupts(handler: () => void): () => void {
  let signals = 0;
  const listener = (): void => {
    // A second Ctrl-C does not wait for the first to finish.
    if (++signals > 1) process.exit(130);
    handler();
  };
  process.on("SIGINT", listener);
  process.on("SIGTERM", listener);
  return () => {
    process.off("SIGINT", listener);
    process.off("SIGTERM", listener);
  };
}

export function defaultDependencies(): LoadtestDependencies {
  return {
    env: process.env,
    clock: wallClock,
    readFile: (path) => readFile(path, "utf8"),
    connectKube,
    connectBroker,
    emulator: (url, namespace, name) => new EmulatorClient(url, namespace, name),
    onInterrupt: processInterrupts,
    stderrIsTTY: process.stderr.isTTY === true,
  };
}

interface Flags {
  file: string;
  policy?: string;
  traceFile: string;
  namespace?: string;
  kubeconfig?: string;
  context?: string;
  output: Output;
  source?: SourceKind;
  rabbitmqUrl?: string;
  sqsEndpoint?: string;
  kafkaBrokers?: string;
  emulatorUrl?: string;
  timeScale: number;
  settleSeconds: number;
  compare: boolean;
  serviceRate?: number;
  schedulingDelay?: number;
  /** The simulation's cluster parameters (simulate's flags). */
  model: Partial<ModelParameters>;
}

function numberFlag(value: string | undefined, flag: string, check: (n: number) => boolean, what: string) {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed) || !check(parsed)) {
    throw new UsageError(`--${flag} must be ${what}, not ${value}`);
  }
  return parsed;
}

function parseFlags(argv: string[]): Flags | "help" {
  const { values } = parseArgs({
    args: argv,
    options: {
      filename: { type: "string", short: "f" },
      policy: { type: "string" },
      trace: { type: "string" },
      namespace: { type: "string", short: "n" },
      kubeconfig: { type: "string" },
      context: { type: "string" },
      output: { type: "string", short: "o", default: "table" },
      source: { type: "string" },
      "rabbitmq-url": { type: "string" },
      "sqs-endpoint": { type: "string" },
      "kafka-brokers": { type: "string" },
      "emulator-url": { type: "string" },
      "time-scale": { type: "string" },
      "settle-seconds": { type: "string" },
      "compare-simulation": { type: "boolean" },
      "service-rate": { type: "string" },
      "scheduling-delay": { type: "string" },
      ...MODEL_FLAG_OPTIONS,
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) return "help";
  if (values.filename === undefined) throw new UsageError("-f POLICY.yaml is required");
  if (values.trace === undefined) throw new UsageError("--trace TRACE.csv is required");
  if (!(OUTPUTS as readonly string[]).includes(values.output)) {
    throw new UsageError(`-o must be one of ${OUTPUTS.join(", ")}, not ${values.output}`);
  }
  if (values.source !== undefined && !(SOURCE_KINDS as readonly string[]).includes(values.source)) {
    throw new UsageError(`--source must be one of ${SOURCE_KINDS.join(", ")}, not ${values.source}`);
  }
  const settle = numberFlag(
    values["settle-seconds"],
    "settle-seconds",
    (n) => n >= 0 && Number.isInteger(n),
    "a whole number >= 0",
  );
  const flags: Flags = {
    file: values.filename,
    traceFile: values.trace,
    output: values.output as Output,
    timeScale: numberFlag(values["time-scale"], "time-scale", (n) => n > 0, "a number > 0") ?? 1,
    settleSeconds: settle ?? 0,
    compare: values["compare-simulation"] === true,
    model: modelFlags(values),
  };
  if (values.policy !== undefined) flags.policy = values.policy;
  if (values.namespace !== undefined) flags.namespace = values.namespace;
  if (values.kubeconfig !== undefined) flags.kubeconfig = values.kubeconfig;
  if (values.context !== undefined) flags.context = values.context;
  if (values.source !== undefined) flags.source = values.source as SourceKind;
  if (values["rabbitmq-url"] !== undefined) flags.rabbitmqUrl = values["rabbitmq-url"];
  if (values["sqs-endpoint"] !== undefined) flags.sqsEndpoint = values["sqs-endpoint"];
  if (values["kafka-brokers"] !== undefined) flags.kafkaBrokers = values["kafka-brokers"];
  if (values["emulator-url"] !== undefined) flags.emulatorUrl = values["emulator-url"];
  const serviceRate = numberFlag(values["service-rate"], "service-rate", (n) => n > 0, "a number > 0");
  if (serviceRate !== undefined) flags.serviceRate = serviceRate;
  const delay = numberFlag(values["scheduling-delay"], "scheduling-delay", (n) => n >= 0, "a number >= 0");
  if (delay !== undefined) flags.schedulingDelay = delay;
  return flags;
}

/** Object keys in a fixed order, so that two specs compare by content. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value)
      .filter(([, field]) => field !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, field]) => `${JSON.stringify(key)}:${canonical(field)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Whether the cluster's copy of the policy has another spec than the file's (both with defaults filled). */
function specDiffers(policy: MLAutoscalePolicy, live: LivePolicy): boolean {
  const parsed = parsePolicy({ apiVersion: "mlautoscale.io/v1alpha1", kind: "MLAutoscalePolicy", ...live });
  return parsed.ok && canonical(parsed.policy.spec) !== canonical(policy.spec);
}

function simulationProblem(error: unknown, file: string): string {
  if (error instanceof PolicyInputError) return error.message;
  return `${file}: cannot simulate: ${errorMessage(error)}`;
}

function progressLine(progress: Progress): string {
  const step = progress.step;
  const value = (n: number | null): string => (n === null ? "?" : String(Math.round(n * 10) / 10));
  return (
    `loadtest: ${progress.done}/${progress.total} s, sent ${progress.published}/${progress.scheduled}, ` +
    `queue ${value(step.queue)}, desired ${value(step.desiredReplicas)}, replicas ${value(step.replicas)}, ` +
    `ready ${value(step.readyReplicas)}`
  );
}

/** What loadtest reads of the HPA for the simulation's phases. */
interface LiveHpa {
  metadata?: { creationTimestamp?: string };
  status?: { conditions?: (ScalingActiveCondition & { type?: string })[] };
}

/**
 * Sets the simulation's first HPA sync and first KEDA poll where the cluster's fall, and the HPA's last
 * recommendation before the load where the cluster's was, unless the flags gave them (see phases.ts).
 */
async function phaseLikeTheCluster(
  options: SimulationOptions,
  input: {
    given: Partial<ModelParameters>;
    kedaPollingIntervalSeconds: number | undefined;
    readHpa: () => Promise<LiveHpa | undefined>;
    hpaName: string;
    nowMs: number;
    note: (line: string) => void;
  },
): Promise<void> {
  const { given, kedaPollingIntervalSeconds, note } = input;
  const needsSync = given.hpaFirstSyncSeconds === undefined;
  const needsPoll = kedaPollingIntervalSeconds !== undefined && given.kedaFirstPollSeconds === undefined;
  const needsHistory = given.hpaLastRecommendationSeconds === undefined;
  if (!needsSync && !needsPoll && !needsHistory) return;
  const hpa = await input.readHpa().catch(() => undefined);
  const createdAt = hpa?.metadata?.creationTimestamp;
  const phases = autoscalerPhases({
    hpaCreationTimestamp: createdAt,
    scalingActive: hpa?.status?.conditions?.find((condition) => condition.type === "ScalingActive"),
    loadStartMs: input.nowMs,
    hpaSyncPeriodSeconds: options.hpaSyncPeriodSeconds ?? MODEL_DEFAULTS.hpaSyncPeriodSeconds,
    kedaPollingIntervalSeconds,
  });
  if (phases === undefined) {
    note(
      `note: cannot read when HPA ${input.hpaName} was created: the simulation syncs and polls from the ` +
        "load's start (--hpa-first-sync, --keda-first-poll)",
    );
    return;
  }
  const derived: string[] = [];
  if (needsSync) {
    options.hpaFirstSyncSeconds = phases.hpaFirstSyncSeconds;
    derived.push(`syncs the HPA ${phases.hpaFirstSyncSeconds} s`);
  }
  if (needsPoll && phases.kedaFirstPollSeconds !== undefined) {
    options.kedaFirstPollSeconds = phases.kedaFirstPollSeconds;
    derived.push(`polls KEDA ${phases.kedaFirstPollSeconds} s`);
  }
  if (derived.length > 0) {
    note(
      `loadtest: the simulation ${derived.join(" and ")} into the load, where HPA ${input.hpaName}'s ` +
        `creation (${createdAt ?? ""}) puts the cluster's`,
    );
  }
  if (needsHistory && phases.hpaLastRecommendationSeconds !== undefined) {
    options.hpaLastRecommendationSeconds = phases.hpaLastRecommendationSeconds;
    note(
      `loadtest: HPA ${input.hpaName} last recommended a scale ${phases.hpaLastRecommendationSeconds} s ` +
        "before the load (it has had scaling disabled since); the simulation's HPA remembers it",
    );
  }
}

export async function runLoadtestCommand(
  argv: string[],
  io: CommandIO,
  deps: LoadtestDependencies = defaultDependencies(),
): Promise<number> {
  let flags: Flags;
  try {
    const parsed = parseFlags(argv);
    if (parsed === "help") {
      io.stdout(LOADTEST_USAGE);
      return 0;
    }
    flags = parsed;
  } catch (error) {
    io.stderr(`error: ${errorMessage(error)}\n\n${LOADTEST_USAGE}`);
    return 2;
  }
  const fail = (problems: readonly string[]): number => {
    io.stderr(problems.map((problem) => `error: ${problem}\n`).join(""));
    return 1;
  };
  const note = (line: string): void => io.stderr(`${line}\n`);

  // The input: the policy, the trace and where the load goes, before touching the cluster.
  let policy: MLAutoscalePolicy;
  let trace: Trace;
  let prepared: ReturnType<typeof chooseSource>;
  try {
    let policyText: string;
    try {
      policyText = await deps.readFile(flags.file);
    } catch (error) {
      throw new PolicyInputError([`${flags.file}: ${errorMessage(error)}`]);
    }
    policy = selectPolicy(policiesInText(policyText, flags.file), flags.policy, flags.file);
    let traceText: string;
    try {
      traceText = await deps.readFile(flags.traceFile);
    } catch (error) {
      throw new LoadtestError(`${flags.traceFile}: ${errorMessage(error)}`);
    }
    trace = parseTrace(traceText, flags.traceFile);
    prepared = chooseSource(policy, flags, deps.env);
  } catch (error) {
    if (error instanceof PolicyInputError) return fail(error.problems);
    if (error instanceof TraceError || error instanceof LoadtestError) return fail([error.message]);
    throw error;
  }
  const { source } = prepared;
  const schedule = arrivalSchedule(trace, flags.timeScale);

  // The cluster: the policy must be there; what to sample.
  let kube: KubeConnection;
  let namespace: string;
  let target;
  try {
    kube = deps.connectKube({
      ...(flags.kubeconfig !== undefined && { kubeconfig: flags.kubeconfig }),
      ...(flags.context !== undefined && { context: flags.context }),
    });
    namespace = resolveNamespace(flags.namespace, policy, kube.contextNamespace);
    target = await findTarget(kube.reader, policy, namespace, kube.where, flags.file);
  } catch (error) {
    return fail([
      error instanceof LoadtestError ? error.message : `the Kubernetes API: ${errorMessage(error)}`,
    ]);
  }
  const name = policy.metadata.name;
  for (const line of prepared.notes) note(`note: ${line}`);
  if (target.engine === undefined) {
    note(`warning: the operator has not reconciled ${namespace}/${name} yet (it has no status.engine)`);
  }
  if (specDiffers(policy, target.live)) {
    note(
      `warning: ${namespace}/${name} in the cluster has another spec than ${flags.file}; the simulation uses the file`,
    );
  }
  if (schedule.hasMetricsDown) {
    note("note: the trace's metrics_down column is not replayed: a load test makes no metrics source fail");
  }

  // The emulator knows the service rate of the emulated workers; the simulation uses it unless told.
  const emulatorUrl =
    source.kind === "http" ? source.emulatorUrl : (flags.emulatorUrl ?? deps.env["EMULATOR_URL"]);
  const emulator = emulatorUrl ? deps.emulator(emulatorUrl.replace(/\/+$/, ""), namespace, name) : undefined;

  let sink: LoadSink;
  try {
    sink =
      source.kind === "http" && emulator
        ? await connectEmulator(emulator)
        : await deps.connectBroker(source, namespace, name);
  } catch (error) {
    return fail([errorMessage(error)]);
  }

  try {
    const sampler = new ClusterSampler(kube.reader, target);
    const initial = await sampler.sample();
    sampler.missed = 0;

    // The prediction, before the load: a policy the simulator cannot run fails before anything is sent.
    let simulation: { result: SimulationResult; parameters: RunParameters } | undefined;
    if (flags.compare) {
      let serviceRate = flags.serviceRate;
      const emulated = emulator ? (await emulator.workload().catch(() => undefined))?.parameters : undefined;
      if (serviceRate === undefined) {
        const rate = emulated?.serviceRatePerReplica;
        if (rate !== undefined && rate > 0) serviceRate = rate;
      }
      const options: SimulationOptions = {
        ...DEFAULT_OPTIONS,
        ...flags.model,
        serviceRatePerReplica: serviceRate ?? DEFAULT_OPTIONS.serviceRatePerReplica,
        // Nothing was sent before the run.
        idleBeforeStart: true,
        schedulingDelaySeconds: flags.schedulingDelay ?? DEFAULT_OPTIONS.schedulingDelaySeconds,
      };
      if (initial.replicas !== null) options.initialReplicas = initial.replicas;
      // An LLM server's batch, as the emulator plays it.
      if (emulated?.serverConcurrency !== undefined) options.serverConcurrency = emulated.serverConcurrency;
      try {
        const rendered = renderPolicy(
          { ...policy, metadata: { ...policy.metadata, namespace } },
          { kedaInstalled: target.engine !== "HPA" },
        );
        const kedaPollingIntervalSeconds =
          rendered.engine === "KEDA"
            ? (rendered.scaledObject?.spec.pollingInterval ?? KEDA_DEFAULTS.pollingIntervalSeconds)
            : undefined;
        await phaseLikeTheCluster(options, {
          given: flags.model,
          kedaPollingIntervalSeconds,
          readHpa: () => kube.reader.get<LiveHpa>(apiPaths.hpa(namespace, target.hpaName)),
          hpaName: `${namespace}/${target.hpaName}`,
          nowMs: deps.clock.now(),
          note,
        });
        const result = simulate(
          {
            name,
            engine: rendered.engine === "KEDA" ? "KEDA" : "HPA",
            modelLoadSeconds: rendered.modelLoadSeconds,
            ...(rendered.deployment && { deployment: rendered.deployment }),
            ...(rendered.hpa && { hpa: rendered.hpa }),
            ...(rendered.scaledObject && { scaledObject: rendered.scaledObject }),
          },
          realTimeTrace(trace, flags.timeScale, flags.settleSeconds),
          options,
        );
        simulation = {
          result,
          parameters: {
            serviceRatePerReplica: options.serviceRatePerReplica,
            schedulingDelaySeconds: options.schedulingDelaySeconds,
            latencySloSeconds: options.latencySloSeconds,
            gpuPricePerHour: options.gpuPricePerHour,
          },
        };
      } catch (error) {
        return fail([simulationProblem(error, flags.file)]);
      }
    }

    const runSeconds = schedule.seconds.length;
    note(
      `loadtest: ${namespace}/${name} (${target.engine ?? "not reconciled"}, ${target.workload.kind} ${target.workload.name}, ` +
        `HPA ${target.hpaName}) at ${kube.where}`,
    );
    note(
      `loadtest: sending ${schedule.total} arrivals over ${runSeconds} s to ${sink.description}` +
        (flags.settleSeconds > 0 ? `, then sampling ${flags.settleSeconds} s more` : ""),
    );
    if (flags.timeScale !== 1) {
      note(
        `loadtest: time scale ${flags.timeScale}: each second sends ${flags.timeScale} s of the trace's arrivals ` +
          `(${flags.timeScale} times its rate)`,
      );
    }

    const controller = new AbortController();
    const stopListening = deps.onInterrupt(() => controller.abort());
    const startedAt = new Date(deps.clock.now()).toISOString();
    let live = false;
    const result = await runLoadTest(schedule, flags.settleSeconds, {
      clock: deps.clock,
      sink,
      sampler,
      signal: controller.signal,
      onProgress: (progress) => {
        if (deps.stderrIsTTY) {
          io.stderr(`\r\x1b[2K${progressLine(progress)}`);
          live = true;
        } else if (progress.done % 10 === 0 || progress.done === progress.total) {
          note(progressLine(progress));
        }
      },
    }).finally(stopListening);
    if (live) io.stderr("\n");
    if (result.interrupted)
      note(`loadtest: interrupted after ${result.steps.length} s: nothing more is sent`);
    if (result.maxLagSeconds >= 2) {
      note(
        `warning: the run fell up to ${Math.round(result.maxLagSeconds * 10) / 10} s behind its schedule ` +
          "(a slow machine, broker or API server): some arrivals were sent late",
      );
    }
    if (sampler.lastError !== undefined && sampler.missed > 0) {
      note(`warning: ${sampler.missed} samples of the cluster failed, the last with: ${sampler.lastError}`);
    }

    const steps = result.steps;
    const runError =
      result.error === undefined
        ? undefined
        : redact(result.error, source.kind === "rabbitmq" ? source.url : undefined);
    const report: LoadtestReport = {
      policy: name,
      namespace,
      engine: target.engine ?? null,
      workload: target.workload,
      hpa: target.hpaName,
      source: { kind: source.kind, description: sink.description },
      trace: {
        file: flags.traceFile,
        durationSeconds: schedule.traceEnd - schedule.traceStart,
        arrivals: schedule.traceArrivals,
      },
      timeScale: flags.timeScale,
      settleSeconds: flags.settleSeconds,
      startedAt,
      summary: summarize(steps, {
        scheduled: schedule.total,
        traceArrivals: schedule.traceArrivals,
        missedSamples: sampler.missed + result.missedQueueReads,
        maxLagSeconds: result.maxLagSeconds,
        interrupted: result.interrupted,
      }),
      steps,
      ...(runError !== undefined && { error: runError }),
    };
    if (simulation) report.simulation = { ...simulation, comparison: compareRuns(steps, simulation.result) };
    switch (flags.output) {
      case "json":
        io.stdout(formatReportJson(report));
        break;
      case "csv":
        io.stdout(formatReportCsv(report));
        break;
      case "svg":
        io.stdout(renderReportSvg(report));
        break;
      default:
        io.stdout(formatReportTable(report));
    }
    if (runError !== undefined) return fail([runError]);
    return result.interrupted ? 130 : 0;
  } finally {
    await sink.close().catch(() => undefined);
  }
}
