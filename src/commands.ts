// The `mlautoscale` command's dispatch; src/cli.ts is its entry point.
import { renderCrdYaml } from "./api/v1alpha1/index.js";
import { runOperatorCommand } from "./main.js";
import { runRenderCommand, type CommandIO } from "./render/command.js";
import { runSimulateCommand } from "./simulate/command.js";

const USAGE = `Usage: mlautoscale <command> [flags]

Commands:
  operator   run the operator (in-cluster config, or KUBECONFIG)
  render     print the objects the operator would apply for policy files
  simulate   replay a traffic trace through the HPA and KEDA algorithms for policy files
  tune       search a policy's scaling settings on a trace for the cheapest that meets an SLO
  trace      write a trace file from a Prometheus range query or a request log
  loadtest   replay a traffic trace against a live cluster and print what the autoscaler did
  crd        print the MLAutoscalePolicy CustomResourceDefinition
  help       show this help

Run 'mlautoscale <command> --help' for a command's flags.
`;

type Command = (argv: string[], io: CommandIO) => Promise<number>;

const commands: Record<string, Command> = {
  operator: runOperatorCommand,
  render: runRenderCommand,
  simulate: runSimulateCommand,
  // Loaded on use: the operator's process never imports the load test (nor the broker clients).
  loadtest: async (argv, io) => (await import("./loadtest/command.js")).runLoadtestCommand(argv, io),
  tune: async (argv, io) => (await import("./tune/command.js")).runTuneCommand(argv, io),
  trace: async (argv, io) => (await import("./trace/command.js")).runTraceCommand(argv, io),
  crd: (_argv, io) => {
    io.stdout(renderCrdYaml());
    return Promise.resolve(0);
  },
};

export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    io.stdout(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    io.stderr(`error: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  return command(rest, io);
}
