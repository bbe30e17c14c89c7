// CloudEvents 1.0 in binary content mode: the event's attributes travel as message headers next to the payload, so
// tools of the wider ecosystem (Knative, Dapr, Azure Event Grid, Kafka Connect with a CloudEvents converter) can
// route and trace a Kronos message without knowing its own headers.

/** The CloudEvents attributes a Kronos message carries. */
export interface CloudEventAttributes {
  /** `id`: the message id (unique with `source`). */
  readonly id: string;
  /** `type`: the event's full record name, e.g. `kronos.gaia.CriticalAlert`. */
  readonly type: string;
  /** `source`: who produced it, a URI reference (`/kronos/producers/<principal>`). */
  readonly source: string;
  /** `time`: when it was published, RFC 3339. */
  readonly time?: string | undefined;
  /** Distributed tracing extension: the W3C `traceparent`. */
  readonly traceparent?: string | undefined;
}

/** The CloudEvents spec version written. */
export const CLOUDEVENTS_SPEC_VERSION = "1.0";

/**
 * Header name prefixes of the bindings' binary mode: Kafka's `ce_`, AMQP's `cloudEvents_` (the AMQP binding's
 * JMS-compatible form, which RabbitMQ header tables carry as they are).
 */
export const CLOUDEVENTS_PREFIX = { kafka: "ce_", rabbitmq: "cloudEvents_" } as const;

/** The header names of CloudEvents attributes on either broker (lower case), for telling them from a client's own. */
export function isCloudEventsHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith("ce_") || lower.startsWith("cloudevents_") || lower.startsWith("cloudevents:");
}

/** The binary-mode headers of `attributes` for `broker`: `specversion`, `id`, `type`, `source`, then the optional ones. */
export function cloudEventHeaders(
  broker: "kafka" | "rabbitmq",
  attributes: CloudEventAttributes,
): Record<string, string> {
  const prefix = CLOUDEVENTS_PREFIX[broker];
  const headers: Record<string, string> = {
    [`${prefix}specversion`]: CLOUDEVENTS_SPEC_VERSION,
    [`${prefix}id`]: attributes.id,
    [`${prefix}type`]: attributes.type,
    [`${prefix}source`]: attributes.source,
  };
  if (attributes.time !== undefined) headers[`${prefix}time`] = attributes.time;
  if (attributes.traceparent !== undefined) headers[`${prefix}traceparent`] = attributes.traceparent;
  return headers;
}

/**
 * The CloudEvents attributes in a message's text headers, under either binding's prefix (`ce_`, `cloudEvents_` or
 * the AMQP 1.0 binding's `cloudEvents:`), or `undefined` when the message is not a CloudEvent (it needs at least a
 * spec version, an id, a type and a source).
 */
export function readCloudEvent(headers: Readonly<Record<string, string>>): CloudEventAttributes | undefined {
  for (const prefix of ["ce_", "cloudEvents_", "cloudEvents:"]) {
    const at = (name: string) => headers[`${prefix}${name}`];
    const id = at("id");
    const type = at("type");
    const source = at("source");
    if (at("specversion") === undefined || id === undefined || type === undefined || source === undefined) continue;
    return { id, type, source, time: at("time"), traceparent: at("traceparent") };
  }
  return undefined;
}
