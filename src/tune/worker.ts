// A worker thread of `tune`: simulates the rendered candidates it is sent on the trace it was given.
import { parentPort, workerData } from "node:worker_threads";
import { STEP_FIELDS } from "../simulate/steps.js";
import { evaluatePrepared, type Evaluation, type EvaluationSetup } from "./evaluate.js";
import type { WorkerReply, WorkerTask } from "./pool.js";

const setup = workerData as EvaluationSetup;

/** A timeline's buffers move to the main thread without a copy. */
function transferables(evaluation: Evaluation): ArrayBuffer[] {
  if (!evaluation.ok || !evaluation.timeline) return [];
  const timeline = evaluation.timeline;
  return STEP_FIELDS.map((column) => timeline[column].buffer as ArrayBuffer);
}

parentPort?.on("message", (task: WorkerTask) => {
  const reply: WorkerReply = { id: task.id, evaluation: evaluatePrepared(task.prepared, setup, task.detail) };
  parentPort?.postMessage(reply, transferables(reply.evaluation));
});
