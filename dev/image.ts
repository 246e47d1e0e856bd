// What the container image runs, read from the Dockerfile, so that the benchmarks and the image test run
// the operator with the same Node.js flags as the image does.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = join(fileURLToPath(new URL(".", import.meta.url)), "..");

/** The Dockerfile's ENTRYPOINT (exec form): the node binary, its flags and the script. */
export function imageEntrypoint(dockerfile = join(repoRoot, "Dockerfile")): {
  node: string;
  nodeFlags: string[];
  script: string;
} {
  const line = readFileSync(dockerfile, "utf8")
    .split("\n")
    .find((text) => text.startsWith("ENTRYPOINT "));
  if (line === undefined) throw new Error(`${dockerfile} has no ENTRYPOINT`);
  const entrypoint: unknown = JSON.parse(line.slice("ENTRYPOINT ".length));
  if (
    !Array.isArray(entrypoint) ||
    entrypoint.length < 2 ||
    !entrypoint.every((e) => typeof e === "string")
  ) {
    throw new Error(`${dockerfile}: ENTRYPOINT is not the exec form ["node", ...flags, "script"]`);
  }
  return { node: entrypoint[0] ?? "", nodeFlags: entrypoint.slice(1, -1), script: entrypoint.at(-1) ?? "" };
}
