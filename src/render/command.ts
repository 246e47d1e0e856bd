// `mlautoscale render -f POLICY.yaml [--keda installed|absent] [--kubernetes-version X.Y] [-o yaml|json]`
import { parseArgs } from "node:util";
import type { KubernetesObject } from "@kubernetes/client-node";
import {
  isSupportedKubernetes,
  kubernetesFeatures,
  OLDEST_SUPPORTED_KUBERNETES,
  parseKubernetesVersion,
  type KubernetesFeatures,
} from "../controllers/mlautoscalepolicy/desired/index.js";
import { formatObjects, loadPolicyFile, PolicyInputError, renderPolicy } from "./index.js";

export interface CommandIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const OLDEST = `${OLDEST_SUPPORTED_KUBERNETES.major}.${OLDEST_SUPPORTED_KUBERNETES.minor}`;

export const RENDER_USAGE = `Usage: mlautoscale render -f POLICY.yaml [-f MORE.yaml] [--keda installed|absent]
                          [--kubernetes-version X.Y] [-o yaml|json]

Prints the objects the operator would apply for every policy in the files.
  -f, --filename             policy file (YAML or JSON, one or many documents); repeatable
      --keda                 whether KEDA's CRDs are installed in the target cluster (default: installed)
      --kubernetes-version   the target cluster's Kubernetes version, ${OLDEST} or newer (default: the newest);
                             what that version cannot take is left out and said on stderr
  -o, --output               yaml (default) or json
`;

/** The features of a --kubernetes-version value, or the error to print. */
function featuresOf(value: string): KubernetesFeatures | string {
  const version = parseKubernetesVersion(value);
  if (version === undefined) return `--kubernetes-version must be a version such as ${OLDEST}, not ${value}`;
  if (!isSupportedKubernetes(version)) {
    return `--kubernetes-version ${value}: Kubernetes ${version.major}.${version.minor} is older than ${OLDEST}, the oldest the operator supports`;
  }
  return kubernetesFeatures(version);
}

export async function runRenderCommand(argv: string[], io: CommandIO): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        filename: { type: "string", short: "f", multiple: true },
        keda: { type: "string", default: "installed" },
        "kubernetes-version": { type: "string" },
        output: { type: "string", short: "o", default: "yaml" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    io.stderr(`error: ${(error as Error).message}\n\n${RENDER_USAGE}`);
    return 2;
  }
  if (values.help === true) {
    io.stdout(RENDER_USAGE);
    return 0;
  }
  const files = values.filename ?? [];
  if (files.length === 0) {
    io.stderr(`error: -f POLICY.yaml is required\n\n${RENDER_USAGE}`);
    return 2;
  }
  if (values.keda !== "installed" && values.keda !== "absent") {
    io.stderr(`error: --keda must be installed or absent, not ${values.keda}\n`);
    return 2;
  }
  if (values.output !== "yaml" && values.output !== "json") {
    io.stderr(`error: -o must be yaml or json, not ${values.output}\n`);
    return 2;
  }
  const version = values["kubernetes-version"];
  const kubernetes = version === undefined ? undefined : featuresOf(version);
  if (typeof kubernetes === "string") {
    io.stderr(`error: ${kubernetes}\n`);
    return 2;
  }
  const kedaInstalled = values.keda === "installed";
  // Everything is rendered before anything is printed: bad input prints no partial output.
  const objects: KubernetesObject[] = [];
  const problems: string[] = [];
  const notes: string[] = [];
  for (const file of files) {
    try {
      for (const policy of await loadPolicyFile(file)) {
        try {
          const result = renderPolicy(policy, {
            kedaInstalled,
            ...(kubernetes !== undefined && { kubernetes }),
          });
          objects.push(...result.objects);
          const where = `${file} (${policy.metadata.name})`;
          for (const c of result.corrections) notes.push(`${where}: corrected: ${c}`);
          for (const n of result.notes) notes.push(`${where}: ${n}`);
          for (const n of result.featuresNotApplied) notes.push(`${where}: ${n}`);
        } catch (error) {
          if (!(error instanceof PolicyInputError)) throw error;
          problems.push(...error.problems.map((p) => `${file}: ${p}`));
        }
      }
    } catch (error) {
      if (!(error instanceof PolicyInputError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0) {
    io.stderr(problems.map((p) => `error: ${p}`).join("\n") + "\n");
    return 1;
  }
  io.stdout(formatObjects(objects, values.output));
  for (const n of notes) io.stderr(`note: ${n}\n`);
  return 0;
}
