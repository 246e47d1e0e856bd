// Writes crds/mlautoscale.io_mlautoscalepolicies.yaml from the zod schema. `--check` fails when the committed
// file differs from what the schema generates.
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderCrdYaml, CRD_FILE } from "../src/api/v1alpha1/crd-yaml.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const target = join(root, CRD_FILE);
const generated = renderCrdYaml();

if (process.argv.includes("--check")) {
  const committed = await readFile(target, "utf8").catch(() => "");
  if (committed !== generated) {
    console.error(`${CRD_FILE} is out of date: run npm run generate`);
    process.exit(1);
  }
  console.log(`${CRD_FILE} is up to date`);
} else {
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, generated);
  console.log(`wrote ${CRD_FILE} (${generated.length} bytes)`);
}
