import { setMaxListeners } from "node:events";

/**
 * A signal that aborts when any of `sources` aborts, or after `timeoutMs`, with that source's reason;
 * `release` unlinks it from the sources and stops its timer, and must be called when the work it
 * bounds is over.
 *
 * Node 20's `AbortSignal.any` files every signal it makes under each of its sources and never removes
 * it while the source lives: with a long-lived source (the write fence, a controller's stop signal) a
 * request leaves an entry behind for good (a heap snapshot of the operator after a roll-out of 1,000
 * policies held 14,000 of them). Listeners removed in `release` leave nothing behind.
 *
 * A source carries one listener per request in flight, and 64 workers keep far more than the 10 after
 * which Node prints a MaxListenersExceededWarning to stderr: the limit is lifted on every source, since
 * `release` (tested) is what bounds them.
 */
export function linkedSignal(
  sources: readonly AbortSignal[],
  timeoutMs?: number,
): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const unlinks: Array<() => void> = [];
  const release = (): void => {
    for (const unlink of unlinks.splice(0)) unlink();
  };
  const abort = (reason: unknown): void => {
    release();
    controller.abort(reason);
  };
  for (const source of sources) {
    if (source.aborted) {
      abort(source.reason);
      return { signal: controller.signal, release };
    }
    const onAbort = (): void => abort(source.reason);
    setMaxListeners(0, source);
    source.addEventListener("abort", onAbort, { once: true });
    unlinks.push(() => source.removeEventListener("abort", onAbort));
  }
  if (timeoutMs !== undefined) {
    const timer = setTimeout(
      () => abort(new DOMException(`request timed out after ${timeoutMs} ms`, "TimeoutError")),
      timeoutMs,
    );
    timer.unref();
    unlinks.push(() => clearTimeout(timer));
  }
  return { signal: controller.signal, release };
}
