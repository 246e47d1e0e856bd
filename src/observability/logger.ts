import { pino, type Level, type Logger } from "pino";

export type { Logger } from "pino";

export interface LoggerOptions {
  level?: Level | "silent";
  /** Where JSON lines go; standard output by default. */
  destination?: NodeJS.WritableStream;
}

/**
 * The operator's structured JSON logger. Components derive child loggers that bind their context:
 * `controller`, then `namespace`, `name` and `reconcileID` per reconcile.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { component: "mlautoscale" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? process.stdout,
  );
}

/** A logger for a controller, with the key fields controller-runtime logs. */
export function controllerLogger(
  logger: Logger,
  fields: { controller: string; namespace?: string; name?: string; reconcileID?: string },
): Logger {
  return logger.child(fields);
}
