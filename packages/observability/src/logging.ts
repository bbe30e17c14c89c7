/** The log levels the apps accept, most verbose first (pino's levels plus `silent`). */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Options of {@link loggerOptions}. */
export interface LoggerOptionsInput {
  /** The app's name; every log line carries it as `app`. */
  readonly app: string;
  /** Minimum level written. Default: `info`. */
  readonly level?: LogLevel;
}

/**
 * pino options (the shape Fastify's `logger` option accepts) for structured JSON logs: one JSON object a line,
 * ISO timestamps, `app` and `pid` on every line, and credentials redacted from logged requests.
 */
export interface KronosLoggerOptions {
  readonly level: LogLevel;
  readonly base: { readonly app: string; readonly pid: number };
  readonly timestamp: () => string;
  readonly redact: { readonly paths: string[]; readonly censor: string };
}

/**
 * Builds the pino options every Kronos app logs with. Pass the result as Fastify's `logger` option.
 */
export function loggerOptions(input: LoggerOptionsInput): KronosLoggerOptions {
  return {
    level: input.level ?? "info",
    base: { app: input.app, pid: process.pid },
    // pino's own isoTime format, written out so this package does not need pino itself.
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    redact: {
      paths: ["req.headers.authorization", "req.headers.cookie", 'req.headers["x-api-key"]'],
      censor: "[redacted]",
    },
  };
}

/** True when `value` is one of {@link LOG_LEVELS}. */
export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}
