/**
 * Fences the writes of a replica to its terms as leader. A replica that loses its lease must not
 * write again, not even the writes its reconciles already have in flight: another replica may be
 * leading by then. The manager opens the fence when it starts leading and closes it the moment it
 * stops; the REST client asks it for every write, and a closed fence aborts writes in flight and
 * refuses new ones before they leave the process.
 */
export class WriteFence {
  private term: AbortController | undefined;
  private closedReason = "this replica has not started leading";

  /** Starts a term: writes are allowed until `close`. */
  open(): void {
    if (this.term !== undefined && !this.term.signal.aborted) return;
    this.term = new AbortController();
  }

  /** Ends the term: every write in flight is aborted and every later one refused. */
  close(reason: string): void {
    this.closedReason = reason;
    this.term?.abort(new FencedWriteError(reason));
  }

  /** The signal a write carries; throws FencedWriteError when the fence is closed. */
  writeSignal(): AbortSignal {
    if (this.term === undefined || this.term.signal.aborted) throw new FencedWriteError(this.closedReason);
    return this.term.signal;
  }
}

/** A write refused (or aborted) because this replica is not, or no longer, the leader. */
export class FencedWriteError extends Error {
  constructor(reason: string) {
    super(`write refused: ${reason}`);
    this.name = "FencedWriteError";
  }
}
