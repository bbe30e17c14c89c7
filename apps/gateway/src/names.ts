import type { HttpError } from "@kronos/app-kit";
import { isInternalName, type NameBroker, nameProblem, rabbitmqNameProblem } from "@kronos/transport";
import { gatewayHttpError } from "./errors.js";

/**
 * The names clients give the gateway (topics, queues, exchanges), checked before anything compares or uses them:
 * a name the broker would refuse or alter is 400 `INVALID_NAME` (RabbitMQ strips CR/LF, so `orders\n` would
 * otherwise pass a comparison with the manifest's `orders` and then act on `orders`), and a broker's or the
 * registry's own object is 403 `INTERNAL_DESTINATION`. The rules are the transport's (`@kronos/transport` names).
 */

/** `name` as a message shows it: JSON-quoted (control characters escaped), cut at 120 characters. */
export function shownName(name: string): string {
  return JSON.stringify(name.length > 120 ? `${name.slice(0, 120)}…` : name);
}

function invalidName(name: string, problem: string): HttpError {
  return gatewayHttpError("INVALID_NAME", `${shownName(name)} is not a valid name: ${problem}`);
}

/**
 * Checks a name for `broker` (a Kafka topic, a RabbitMQ queue or exchange); with no broker, for RabbitMQ, whose
 * rule every Kafka topic name meets (the name is checked for the broker again once it is known). Throws 400
 * `INVALID_NAME` naming the rule.
 */
export function checkName(name: string, broker?: NameBroker): void {
  const problem = broker === undefined ? rabbitmqNameProblem(name) : nameProblem(broker, name);
  if (problem !== undefined) throw invalidName(name, problem);
}

/** Throws 403 `INTERNAL_DESTINATION` when `name` is the broker's or the registry's own object on `broker`. */
export function checkNotInternal(name: string, broker: NameBroker): void {
  if (isInternalName(broker, name)) {
    throw gatewayHttpError(
      "INTERNAL_DESTINATION",
      `${shownName(name)} is ${broker === "kafka" ? "an internal Kafka topic" : "a RabbitMQ server-named object"}: ` +
        "internal topics and queues are never read, written or administered through the gateway",
    );
  }
}

/** {@link checkName} then {@link checkNotInternal}: a name a client may use on `broker`. */
export function checkDestination(name: string, broker: NameBroker): void {
  checkName(name, broker);
  checkNotInternal(name, broker);
}
