// `npm run cluster`: a local cluster in the foreground until Ctrl-C. The e2e profile (the default) runs
// etcd, kube-apiserver, kube-controller-manager, kube-scheduler, KWOK's fake GPU nodes, KEDA and the
// scaling loop (metrics-server, Prometheus, prometheus-adapter, RabbitMQ, Kafka, SQS, the workload
// emulator), and prints an `export NAME=value` line for every address.
// `--no-keda` runs it without KEDA (its CRDs stay installed; prometheus-adapter then serves the external
// metrics API); `--no-loop` without the scaling loop; `--profile=integration` only etcd and kube-apiserver
// with the CRDs.
import { startControlPlane, type Profile } from "./controlplane/index.js";

function profileFromArgs(args: string[]): Profile {
  const flag = args.find((arg) => arg.startsWith("--profile="));
  const value = flag?.slice("--profile=".length) ?? "e2e";
  if (value !== "e2e" && value !== "integration") {
    throw new Error(`unknown profile "${value}" (e2e or integration)`);
  }
  return value;
}

const args = process.argv.slice(2);
const profile = profileFromArgs(args);
const controlPlane = await startControlPlane({
  profile,
  keda: !args.includes("--no-keda"),
  loop: !args.includes("--no-loop"),
  log: (line) => process.stderr.write(`[control plane] ${line}\n`),
});
// Child processes do not keep the event loop alive: this timer does, until a signal arrives.
const keepAlive = setInterval(() => undefined, 60_000);

process.stdout.write(
  [
    "",
    `The ${profile} cluster is running${controlPlane.keda ? " with KEDA" : ""} (files in ${controlPlane.dir}). In another shell:`,
    "",
    ...Object.entries(controlPlane.addresses).map(([name, value]) => `  export ${name}=${String(value)}`),
    `  export PATH=${controlPlane.binDir}:$PATH`,
    "  kubectl get nodes -L node.kubernetes.io/instance-type,topology.kubernetes.io/zone",
    "",
    "Press Ctrl-C to stop it.",
    "",
  ].join("\n"),
);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n${signal}: stopping the control plane\n`);
    void controlPlane.stop().finally(() => {
      clearInterval(keepAlive);
      process.exit(0);
    });
  });
}
