import { HttpError } from "@kronos/app-kit";
import type { EventBinding, KafkaBinding, RabbitBinding } from "@kronos/catalog";
import type { EventDescriptor } from "@kronos/contracts";
import { checkName, checkNotInternal } from "../names.js";

/** A broker the gateway publishes to. */
export type Broker = "kafka" | "rabbitmq";

/** One event as a destination carries it: its descriptor and the manifest binding that puts it there. */
export type Route =
  | { readonly broker: "kafka"; readonly event: EventDescriptor<unknown>; readonly binding: KafkaBinding }
  | { readonly broker: "rabbitmq"; readonly event: EventDescriptor<unknown>; readonly binding: RabbitBinding };

/** A Kafka topic or a RabbitMQ exchange of the contract manifest, and the events it carries. */
export interface Destination {
  readonly name: string;
  readonly broker: Broker;
  /** The events it carries, by full name. */
  readonly routes: ReadonlyMap<string, Route>;
  /** Highest `x-max-priority` of its queues (RabbitMQ); `null` when none has priorities (always for Kafka). */
  readonly maxPriority: number | null;
}

/** What a publish request says about where it goes (before the payload is looked at). */
export interface Target {
  readonly topic: string;
  readonly event?: string | undefined;
  readonly broker?: Broker | undefined;
  readonly priority?: number | undefined;
}

/**
 * The manifest's destinations, built from the bindings the generated event descriptors carry (so the gateway
 * needs no schemas folder to route). A name can be both a Kafka topic and a RabbitMQ exchange; the request's
 * `broker` then says which.
 */
export class Destinations {
  readonly #byName = new Map<string, Destination[]>();

  constructor(events: Iterable<EventDescriptor<unknown>>) {
    const building = new Map<
      string,
      { name: string; broker: Broker; routes: Map<string, Route>; max: number | null }
    >();
    for (const event of events) {
      for (const binding of (event.binding ?? []) as EventBinding[]) {
        const name = binding.broker === "kafka" ? binding.topic : binding.exchange.name;
        const id = `${binding.broker}:${name}`;
        let entry = building.get(id);
        if (!entry) {
          entry = { name, broker: binding.broker, routes: new Map(), max: null };
          building.set(id, entry);
        }
        if (binding.broker === "kafka") entry.routes.set(event.name, { broker: "kafka", event, binding });
        else {
          entry.routes.set(event.name, { broker: "rabbitmq", event, binding });
          for (const queue of binding.queues) {
            if (queue.maxPriority !== null) entry.max = Math.max(entry.max ?? 0, queue.maxPriority);
          }
        }
      }
    }
    for (const entry of building.values()) {
      const destination: Destination = {
        name: entry.name,
        broker: entry.broker,
        routes: entry.routes,
        maxPriority: entry.max,
      };
      this.#byName.set(entry.name, [...(this.#byName.get(entry.name) ?? []), destination]);
    }
  }

  /** Every destination, sorted by name then broker. */
  list(): Destination[] {
    return [...this.#byName.values()]
      .flat()
      .sort((a, b) => a.name.localeCompare(b.name) || a.broker.localeCompare(b.broker));
  }

  /**
   * The route of a publish request. Throws an `HttpError`: 400 `INVALID_NAME` (a name no broker would keep), 403
   * `INTERNAL_DESTINATION` (a broker's own topic or exchange), 404 `UNKNOWN_TOPIC` (not a manifest destination),
   * 400 `AMBIGUOUS_TOPIC` (both a topic and an exchange: say `broker`), 400 `EVENT_REQUIRED` (the destination
   * carries several events), 400 `EVENT_NOT_ON_TOPIC`, 400 `PRIORITY_NOT_SUPPORTED` (Kafka, or no queue of the
   * exchange has a max priority), 400 `PRIORITY_OUT_OF_RANGE` (above the queues' max priority).
   */
  resolve(target: Target): { destination: Destination; route: Route } {
    checkName(target.topic, target.broker);
    for (const broker of target.broker === undefined ? (["kafka", "rabbitmq"] as const) : [target.broker]) {
      checkNotInternal(target.topic, broker);
    }
    const candidates = (this.#byName.get(target.topic) ?? []).filter(
      (d) => target.broker === undefined || d.broker === target.broker,
    );
    if (candidates.length === 0) {
      const on = target.broker === undefined ? "" : ` on ${target.broker}`;
      throw new HttpError(
        404,
        "UNKNOWN_TOPIC",
        `"${target.topic}" is not a destination${on} of the contract manifest (GET /publish/destinations lists them)`,
      );
    }
    if (candidates.length > 1) {
      throw new HttpError(
        400,
        "AMBIGUOUS_TOPIC",
        `"${target.topic}" is both a Kafka topic and a RabbitMQ exchange: say "broker": "kafka" or "rabbitmq"`,
      );
    }
    const destination = candidates[0] as Destination;
    const events = [...destination.routes.keys()];
    let route: Route | undefined;
    if (target.event === undefined) {
      if (events.length > 1) {
        throw new HttpError(
          400,
          "EVENT_REQUIRED",
          `"${target.topic}" carries several events, say which in "event": ${events.join(", ")}`,
        );
      }
      route = destination.routes.get(events[0] as string);
    } else {
      route = destination.routes.get(target.event);
      if (!route) {
        throw new HttpError(
          400,
          "EVENT_NOT_ON_TOPIC",
          `"${target.topic}" does not carry ${target.event}; it carries ${events.join(", ")}`,
        );
      }
    }
    if (target.priority !== undefined) {
      if (destination.maxPriority === null) {
        throw new HttpError(
          400,
          "PRIORITY_NOT_SUPPORTED",
          destination.broker === "kafka"
            ? `"priority" applies to RabbitMQ destinations only; "${target.topic}" is a Kafka topic`
            : `"priority" is refused: no queue of exchange "${target.topic}" has a max priority`,
        );
      }
      if (target.priority > destination.maxPriority) {
        throw new HttpError(
          400,
          "PRIORITY_OUT_OF_RANGE",
          `"priority" must be from 0 to ${destination.maxPriority} on "${target.topic}", got ${target.priority}`,
        );
      }
    }
    return { destination, route: route as Route };
  }
}

/** The value at a dotted path (`meta.producer`) of a record value, or `undefined`. */
export function valueAt(value: unknown, path: string): unknown {
  let current = value;
  for (const segment of path.split(".")) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function keyText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) return String(value.getTime());
  if (Buffer.isBuffer(value)) return value.toString("base64");
  if (typeof value === "object") return undefined;
  return String(value);
}

/**
 * The key a message gets when the request gives none: on Kafka the value of the binding's key field (`null`:
 * no key, records spread over the partitions); on RabbitMQ the binding's routing-key template with each
 * `{field.path}` replaced by the payload's value (empty for fanout exchanges without a template). Throws 422
 * `ROUTING_KEY_UNRESOLVED` when a placeholder's field is null or absent.
 */
export function defaultKey(route: Route, value: unknown): string | null {
  if (route.broker === "kafka") {
    return route.binding.keyField === null ? null : (keyText(valueAt(value, route.binding.keyField)) ?? null);
  }
  const template = route.binding.routingKey;
  if (template === null) return "";
  return template.replace(/\{([^}]+)\}/g, (_, path: string) => {
    const text = keyText(valueAt(value, path));
    if (text === undefined) {
      throw new HttpError(
        422,
        "ROUTING_KEY_UNRESOLVED",
        `The routing key template "${template}" needs payload field "${path}", which is null or absent; send "key"`,
      );
    }
    return text;
  });
}
