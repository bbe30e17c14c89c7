import type { EventDescriptor, RegistrySerde } from "@kronos/contracts";
import { withTimeout } from "@kronos/transport";

/** A body decoded: the event's full name and its value (Avro JS representation). */
export interface DecodedBody {
  readonly event: string;
  readonly value: unknown;
}

/**
 * Decodes a Confluent-framed body (a delivery's or a reply's): with the gateway's descriptor of `eventType` when it
 * knows that event (the writer's schema resolved to it), else with the writer's schema alone (the event is then
 * `eventType`, else the writer schema's name). Within `timeoutMs` when given. Throws what the serde throws
 * (`ContractError`; `REGISTRY_UNAVAILABLE` is retriable) or a transport `TIMEOUT`.
 */
export async function decodeBody(
  serde: RegistrySerde,
  events: ReadonlyMap<string, EventDescriptor<unknown>>,
  body: Buffer,
  eventType: string | undefined,
  timeoutMs?: number,
): Promise<DecodedBody> {
  const bounded = <T>(promise: Promise<T>, what: string) =>
    timeoutMs === undefined ? promise : withTimeout(promise, timeoutMs, what);
  const known = eventType === undefined ? undefined : events.get(eventType);
  if (known) return { event: known.name, value: await bounded(serde.decode(known, body), `decoding ${known.name}`) };
  const decoded = await bounded(serde.decodeAny(body), "decoding a message");
  return { event: eventType ?? decoded.writerName, value: decoded.value };
}
