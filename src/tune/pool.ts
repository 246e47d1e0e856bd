// Simulates candidates in worker threads (node:worker_threads), or in this thread when asked for none.
// Each worker gets the parsed trace and the options once, then one candidate per message, already rendered
// here: a worker loads the simulator alone (about 30 ms), not the API's schema and the renderer (350 ms).
//
// The published command runs dist/ (JavaScript): the worker is dist/tune/worker.js. Tests and `tsx` run the
// TypeScript sources, which a plain worker cannot load: there the worker first registers tsx's loader (a
// development dependency, present wherever the sources run), then imports worker.ts.
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { MLAutoscalePolicy } from "../api/v1alpha1/index.js";
import type { Evaluation, EvaluationSetup, Prepared } from "./evaluate.js";
import { evaluatePolicy, prepareCandidate } from "./prepare.js";

export interface Evaluator {
  /** Worker threads in use; 0 when candidates run in this thread. */
  readonly workers: number;
  evaluate(policies: readonly MLAutoscalePolicy[], detail?: boolean): Promise<Evaluation[]>;
  close(): Promise<void>;
}

export interface WorkerTask {
  id: number;
  prepared: Prepared;
  detail: boolean;
}

export interface WorkerReply {
  id: number;
  evaluation: Evaluation;
}

/** Worker threads worth starting: one per core the process may use. */
export function defaultWorkerCount(): number {
  const cores = availableParallelism();
  return cores > 1 ? cores : 0;
}

export function inlineEvaluator(setup: EvaluationSetup): Evaluator {
  return {
    workers: 0,
    evaluate: (policies, detail = false) =>
      Promise.resolve(policies.map((policy) => evaluatePolicy(policy, setup, detail))),
    close: () => Promise.resolve(),
  };
}

function startWorker(setup: EvaluationSetup): Worker {
  const self = import.meta.url;
  if (!self.endsWith(".ts")) return new Worker(new URL("./worker.js", self), { workerData: setup });
  const tsxRoot = dirname(createRequire(self).resolve("tsx/package.json"));
  const loader = pathToFileURL(join(tsxRoot, "dist", "esm", "api", "index.mjs")).href;
  const entry = new URL("./worker.ts", self).href;
  const code = `import(${JSON.stringify(loader)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true, workerData: setup });
}

/** `count` workers taking candidates from one queue, each as soon as it is free. */
export function workerEvaluator(setup: EvaluationSetup, count: number): Evaluator {
  const workers = Array.from({ length: count }, () => startWorker(setup));
  const queue: WorkerTask[] = [];
  const pending = new Map<
    number,
    { resolve: (evaluation: Evaluation) => void; reject: (error: Error) => void }
  >();
  const idle: Worker[] = [...workers];
  let failure: Error | undefined;
  let nextId = 0;

  const dispatch = () => {
    while (idle.length > 0 && queue.length > 0) {
      const worker = idle.pop();
      const task = queue.shift();
      if (worker && task) worker.postMessage(task);
    }
  };
  for (const worker of workers) {
    worker.on("message", (reply: WorkerReply) => {
      pending.get(reply.id)?.resolve(reply.evaluation);
      pending.delete(reply.id);
      idle.push(worker);
      dispatch();
    });
    worker.on("error", (error) => {
      failure ??= error;
      for (const waiting of pending.values()) waiting.reject(error);
      pending.clear();
      queue.length = 0;
    });
  }

  return {
    workers: count,
    evaluate: (policies, detail = false) => {
      if (failure) return Promise.reject(failure);
      // Rendered here (a worker loads the simulator alone), simulated there.
      const results = policies.map((policy) => {
        const candidate = prepareCandidate(policy, setup.kedaInstalled);
        if (!candidate.ok) return Promise.resolve<Evaluation>(candidate);
        return new Promise<Evaluation>((resolve, reject) => {
          const id = nextId++;
          pending.set(id, { resolve, reject });
          queue.push({ id, prepared: candidate.prepared, detail });
          // A free worker starts on it while this thread renders the next.
          dispatch();
        });
      });
      return Promise.all(results);
    },
    close: async () => {
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}
