// What an add-on of the local cluster is given to start with.
import type { BinaryLocator } from "../binaries.js";
import type { Components } from "../components.js";
import type { ClusterObjects } from "../objects.js";
import type { LocalPki } from "../pki.js";

export interface AddonContext {
  /** The control plane's temporary folder; an add-on keeps its files under <dir>/<add-on>. */
  dir: string;
  kubeconfigPath: string;
  locator: BinaryLocator;
  components: Components;
  pki: LocalPki;
  objects: ClusterObjects;
  /** Flags added to KEDA's operator (ControlPlaneOptions.kedaOperatorArgs). */
  kedaOperatorArgs: readonly string[];
  log(line: string): void;
  /** Resolves once every named APIService reports Available=True. */
  waitForApiServiceAvailable(names: readonly string[]): Promise<void>;
}
