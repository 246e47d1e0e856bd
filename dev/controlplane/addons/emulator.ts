// The workload emulator (dev/emulator): plays the model servers and workers that KWOK's pods do not run.
import { join } from "node:path";
import { repoRoot } from "../binaries.js";
import type { ClusterAddresses } from "../controlplane.js";
import type { AddonContext } from "./context.js";

export interface EmulatorAddon {
  url: string;
}

export async function startEmulator(
  context: AddonContext,
  port: number,
  addresses: Readonly<ClusterAddresses>,
): Promise<EmulatorAddon> {
  const flag = (name: string, value: string | undefined): string[] =>
    value === undefined ? [] : [`--${name}=${value}`];
  await context.components.start("workload-emulator", 0, () => ({
    command: process.execPath,
    args: [
      "--import",
      "tsx",
      join(repoRoot, "dev", "emulator", "main.ts"),
      `--kubeconfig=${context.kubeconfigPath}`,
      `--port=${port}`,
      ...flag("rabbitmq-url", addresses.RABBITMQ_URL),
      ...flag("sqs-endpoint", addresses.SQS_ENDPOINT),
      ...flag("kafka-brokers", addresses.KAFKA_BROKERS),
    ],
    probe: { url: `http://127.0.0.1:${port}/healthz` },
    options: { cwd: repoRoot },
  }));
  return { url: `http://127.0.0.1:${port}` };
}
