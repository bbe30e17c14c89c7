import type { KafkaConfig, LogEntry } from "kafkajs";
import kafkajs from "kafkajs";
import type { TransportLogger } from "../logger.js";

// kafkajs is CommonJS: Node cannot see its enums as named ESM exports.
const { logLevel } = kafkajs;

/**
 * Internal to @kronos/transport: the logging settings of every kafkajs client the package creates. kafkajs writes
 * WARN and above to `logger`, one step quieter than its own levels (kafkajs logs every failed reconnect as an
 * ERROR, which the caller reports itself when it matters): ERROR → `warn`, WARN → `info`, anything else →
 * `debug`. Each line carries the kafkajs fields and `kafkajs: <namespace>`; the message is prefixed `kafkajs:`.
 */
export function kafkaLogging(logger: TransportLogger): Pick<KafkaConfig, "logLevel" | "logCreator"> {
  return {
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log }: LogEntry) => {
        const { message, timestamp: _timestamp, logger: _logger, ...fields } = log;
        const line = { ...fields, kafkajs: namespace };
        if (level <= logLevel.ERROR) logger.warn(line, `kafkajs: ${message}`);
        else if (level === logLevel.WARN) logger.info(line, `kafkajs: ${message}`);
        else logger.debug(line, `kafkajs: ${message}`);
      },
  };
}
