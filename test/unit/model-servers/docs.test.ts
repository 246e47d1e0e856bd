// docs/engines/ shows the queries the operator writes and the prometheus-adapter rules a cluster needs:
// generated from the engine table, so they must match it exactly.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { SERVER_ENGINES, type ServerEngine } from "../../../src/model-servers/engines.js";
import {
  adapterRule,
  SERVER_SIGNALS,
  seriesNames,
  workloadQuery,
} from "../../../src/model-servers/promql.js";

const PAGES: Record<ServerEngine, string> = {
  vLLM: "vllm.md",
  TGI: "tgi.md",
  SGLang: "sglang.md",
  Triton: "triton.md",
};
const page = (file: string): string =>
  readFileSync(new URL(`../../../docs/engines/${file}`, import.meta.url), "utf8");

describe("docs/engines", () => {
  it.each(SERVER_ENGINES)(
    "%s: the page shows the queries and the adapter rules the table compiles to",
    (engine) => {
      const text = page(PAGES[engine]);
      for (const signal of SERVER_SIGNALS) {
        expect(text).toContain(workloadQuery(engine, signal, 'namespace="ml",pod=~"chat-.*"'));
      }
      const rules = stringify(
        { rules: SERVER_SIGNALS.map((signal) => adapterRule(engine, signal)) },
        { lineWidth: 0 },
      );
      expect(text).toContain(`\`\`\`yaml\n${rules}\`\`\``);
    },
  );

  it("names every series of every engine in the overview", () => {
    const overview = page("README.md");
    for (const engine of SERVER_ENGINES) {
      for (const signal of SERVER_SIGNALS) {
        for (const name of seriesNames(engine, signal)) expect(overview, `${engine} ${name}`).toContain(name);
      }
    }
  });
});
