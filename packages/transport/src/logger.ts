/**
 * The logger the adapters write to: pino's (and Fastify's `app.log`) shape, `(fields, message)`, so an app passes
 * its own logger and every line carries the app's name. {@link silentLogger} drops everything.
 */
export interface TransportLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** A {@link TransportLogger} that writes nothing (the default of every adapter). */
export const silentLogger: TransportLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
