/**
 * Errors the runtime understands. A reconciler throws TerminalError for a failure that retrying cannot
 * fix (invalid input, say): the controller records it and does not requeue the key.
 */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TerminalError";
  }
}

/** A non-2xx answer from the Kubernetes API, with the Status object's reason when there was one. */
export class KubeApiError extends Error {
  readonly statusCode: number;
  readonly reason: string | undefined;

  constructor(statusCode: number, message: string, reason?: string) {
    super(message);
    this.name = "KubeApiError";
    this.statusCode = statusCode;
    this.reason = reason;
  }
}

function statusCodeOf(error: unknown): number | undefined {
  if (error instanceof KubeApiError) return error.statusCode;
  if (typeof error === "object" && error !== null) {
    // client-node's ApiException carries `code`; its Watch errors carry `statusCode`.
    const candidate =
      (error as { code?: unknown; statusCode?: unknown }).code ??
      (error as { statusCode?: unknown }).statusCode;
    if (typeof candidate === "number") return candidate;
  }
  return undefined;
}

export function isNotFound(error: unknown): boolean {
  return statusCodeOf(error) === 404;
}

export function isConflict(error: unknown): boolean {
  return statusCodeOf(error) === 409;
}

/** A create that found an object of that name already there (409, reason AlreadyExists). */
export function isAlreadyExists(error: unknown): boolean {
  return error instanceof KubeApiError && error.statusCode === 409 && error.reason === "AlreadyExists";
}

export function isGone(error: unknown): boolean {
  return statusCodeOf(error) === 410;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
