/**
 * A command line a command cannot run (a missing or malformed flag): the command prints the message with
 * its usage and exits 2, where bad input files exit 1.
 */
export class UsageError extends Error {
  override name = "UsageError";
}
