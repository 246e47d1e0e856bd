// `npm run cluster`: a local control plane in the foreground (e2e profile by default: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and KWOK's fake GPU nodes) until Ctrl-C.
// `npm run cluster -- --profile=integration` starts only etcd and kube-apiserver with the CRDs.
import { startControlPlane, type Profile } from "./controlplane/index.js";

function profileFromArgs(args: string[]): Profile {
  const flag = args.find((arg) => arg.startsWith("--profile="));
  const value = flag?.slice("--profile=".length) ?? "e2e";
  if (value !== "e2e" && value !== "integration") {
    throw new Error(`unknown profile "${value}" (e2e or integration)`);
  }
  return value;
}

const profile = profileFromArgs(process.argv.slice(2));
const controlPlane = await startControlPlane({
  profile,
  log: (line) => process.stderr.write(`[control plane] ${line}\n`),
});
// Child processes do not keep the event loop alive: this timer does, until a signal arrives.
const keepAlive = setInterval(() => undefined, 60_000);

process.stdout.write(
  [
    "",
    `The ${profile} control plane is running (files in ${controlPlane.dir}). In another shell:`,
    "",
    `  export KUBECONFIG=${controlPlane.kubeconfigPath}`,
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
