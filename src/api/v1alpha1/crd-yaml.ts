import { stringify } from "yaml";
import { buildCustomResourceDefinition } from "./crd.js";

export const CRD_FILE = "crds/mlautoscale.io_mlautoscalepolicies.yaml";

/** The CRD as the YAML committed under crds/ (stable: same schema, same bytes). */
export function renderCrdYaml(): string {
  return (
    "# Generated from src/api/v1alpha1/schema.ts by `npm run generate`. Do not edit.\n---\n" +
    stringify(buildCustomResourceDefinition(), { lineWidth: 0, aliasDuplicateObjects: false })
  );
}
