// LLM server signals in the workload model (workload.ts): a ready replica runs requests in one batch,
// up to `concurrency` at once (as many as its KV cache holds at the trace's request sizes), and the rest
// wait in its queue. In the fluid model a replica serving at full rate runs a full batch, so
//   running requests per replica = busy x concurrency,
//   KV-cache use per replica      = busy x 100 %  (the batch's share of the cache),
//   waiting requests              = the queue, spread over the ready replicas,
// where busy is the share of the ready replicas' capacity in use. At zero ready replicas the server
// reports nothing (its metrics vanish with its pods) and the requests wait upstream, at a gateway or
// router: the signal that wakes a workload from zero. The emulator (dev/emulator) exports the same values
// under each engine's metric names, so `simulate` and the live cluster describe one workload.
import { ACTIVATION_TRIGGER } from "../model-servers/promql.js";
import type { Signal } from "./signals.js";

export const SERVER_SIGNAL_KINDS = ["waiting", "running", "kvCache", "upstream"] as const;
export type ServerSignalKind = (typeof SERVER_SIGNAL_KINDS)[number];

/** Requests one replica runs at once when its batch is full (vLLM's default max_num_seqs is far above). */
export const DEFAULT_SERVER_CONCURRENCY = 32;

export function isServerSignal(signal: string): signal is ServerSignalKind {
  return (SERVER_SIGNAL_KINDS as readonly string[]).includes(signal);
}

/**
 * A server signal as one ready replica reports it (perPod), or summed over the workload. `queue` is the
 * workload's waiting requests, `busy` the share of the ready replicas' capacity in use (0..1), and
 * `concurrency` the requests a replica runs at once when busy.
 */
export function serverSignalValue(
  signal: ServerSignalKind,
  queue: number,
  busy: number,
  ready: number,
  concurrency: number,
  perPod: boolean,
): number {
  if (signal === "upstream") return ready === 0 ? queue : 0;
  if (ready === 0) return 0;
  const replicas = perPod ? 1 : ready;
  switch (signal) {
    case "waiting":
      return queue / (perPod ? ready : 1);
    case "running":
      return busy * concurrency * replicas;
    case "kvCache":
      return busy * 100 * replicas;
  }
}

/**
 * What the triggers the operator generates measure, by name: its activation trigger reads the queue
 * upstream of the server. The user's own --signal entries win.
 */
export function withServerSignals(overrides: ReadonlyMap<string, Signal>): Map<string, Signal> {
  const merged = new Map<string, Signal>([[ACTIVATION_TRIGGER, "upstream"]]);
  for (const [name, signal] of overrides) merged.set(name, signal);
  return merged;
}
