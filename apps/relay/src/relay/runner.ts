import { createHash } from "node:crypto";
import type { RelayRoute } from "@kronos/catalog";
import { type DecodedAny, isContractError, isRegistryAccessError, type RegistrySerde } from "@kronos/contracts";
import {
  type AmqpPublisher,
  type DeadLetterReason,
  describeError,
  type KafkaPublisher,
  TransportError,
} from "@kronos/transport";
import type { FastifyBaseLogger } from "fastify";
import type { Dedup } from "./dedup.js";
import { type Envelope, headerText, toAmqp, toKafka } from "./envelope.js";
import { hopVerdict, type Place, stampHops } from "./hops.js";
import type { RouteMetrics } from "./metrics.js";
import { fieldValue, renderTemplate } from "./payload.js";

/**
 * What became of one message: settle the source (`relayed`, `deduped`, `looped`, `dead-lettered`: commit/ack), or
 * give it back to the source to try again later (`retry`: the destination, the registry or Redis failed).
 */
export type Outcome = "relayed" | "deduped" | "looped" | "dead-lettered" | { readonly retry: string };

/** Writes a message to its source's dead letters (the source knows where they go). */
export type DeadLetterWriter = (
  envelope: Envelope,
  reason: DeadLetterReason,
  error: { code: string; message: string },
  eventType?: string,
) => Promise<void>;

/** What the runner needs of an event of the catalog: its key field and routing key template. */
export interface EventRouting {
  readonly partitionKey: string | null;
  readonly routingKey: string | null;
}

/** Everything a {@link RouteRunner} works with. */
export interface RunnerDeps {
  readonly route: RelayRoute;
  readonly events: ReadonlyMap<string, EventRouting>;
  readonly serde: RegistrySerde;
  readonly dedup: Dedup;
  readonly publishKafka: () => KafkaPublisher;
  readonly publishAmqp: () => AmqpPublisher;
  readonly metrics: RouteMetrics;
  readonly log: FastifyBaseLogger;
  readonly instance: string;
  readonly hopLimit: number;
  readonly dedupWindowMs: number;
  readonly publishTimeoutMs: number;
}

/** The place (`kafka:<topic>` or `rabbitmq:<exchange>`) a route reads from and the one it writes to. */
export function placesOf(route: RelayRoute): { source: Place; target: Place } {
  const source: Place = route.from.broker === "kafka" ? `kafka:${route.from.topic}` : `rabbitmq:${route.from.exchange}`;
  const target: Place = route.to.broker === "kafka" ? `kafka:${route.to.topic}` : `rabbitmq:${route.to.exchange}`;
  return { source, target };
}

// Publish failures that are the message's fault, not the destination's: dead-letter it and go on.
const MESSAGE_FAULTS = new Set(["UNROUTABLE", "PUBLISH_REJECTED"]);

let claims = 0;

/**
 * Relays one message of one route: loop check (hop headers), schema check (the frame's id must resolve to an event
 * allowed on the route), de-duplication (Redis), then one confirmed copy to the destination. Each step that fails
 * for a reason outside the message answers `retry`; a message at fault is dead-lettered. Never throws.
 */
export class RouteRunner {
  readonly #deps: RunnerDeps;
  readonly #places: { source: Place; target: Place };

  constructor(deps: RunnerDeps) {
    this.#deps = deps;
    this.#places = placesOf(deps.route);
  }

  /** Relays `envelope`; `deadLetter` writes it to its source's dead letters. */
  async handle(envelope: Envelope, deadLetter: DeadLetterWriter): Promise<Outcome> {
    const { route, metrics, log } = this.#deps;
    metrics.inFlight.inc();
    try {
      const verdict = hopVerdict(envelope, this.#places.source, this.#places.target, this.#deps.hopLimit);
      if (!verdict.relay) {
        log.debug({ route: route.id, why: verdict.why, messageId: headerText(envelope, "message-id") }, "loop stopped");
        metrics.looped.inc();
        return "looped";
      }
      let decoded: DecodedAny;
      try {
        decoded = await this.#deps.serde.decodeAny(envelope.value);
      } catch (error) {
        // The registry down, or refusing this relay's credentials or certificate: the message is not at fault, hold it.
        if ((isContractError(error) && error.retriable) || isRegistryAccessError(error)) {
          return { retry: `registry: ${describeError(error)}` };
        }
        const code = isContractError(error) ? error.code : "DECODE_FAILED";
        return await this.#deadLetter(envelope, deadLetter, "decode-failed", { code, message: describeError(error) });
      }
      if (!route.events.includes(decoded.writerName)) {
        const message = `${decoded.writerName} (schema id ${decoded.schemaId}) is not allowed on route ${route.id}`;
        return await this.#deadLetter(
          envelope,
          deadLetter,
          "rejected",
          { code: "EVENT_NOT_ALLOWED", message },
          decoded.writerName,
        );
      }
      return await this.#relay(envelope, decoded, deadLetter);
    } finally {
      metrics.inFlight.dec();
    }
  }

  async #deadLetter(
    envelope: Envelope,
    deadLetter: DeadLetterWriter,
    reason: DeadLetterReason,
    error: { code: string; message: string },
    eventType?: string,
  ): Promise<Outcome> {
    try {
      await deadLetter(envelope, reason, error, eventType);
    } catch (failure) {
      return { retry: `dead letter: ${describeError(failure)}` };
    }
    this.#deps.log.warn(
      { route: this.#deps.route.id, reason, code: error.code, error: error.message },
      "dead-lettered",
    );
    this.#deps.metrics.deadLettered.inc({ reason });
    return "dead-lettered";
  }

  /** The id the route de-duplicates on: a payload field, the message id, else a hash of the body. */
  #dedupId(envelope: Envelope, decoded: DecodedAny): string {
    const { dedup } = this.#deps.route;
    if (dedup.by === "field") {
      const value = fieldValue(decoded.value, dedup.field);
      if (value !== undefined) return `${dedup.field}=${value}`;
    }
    const messageId = headerText(envelope, "message-id");
    return messageId !== undefined
      ? `id=${messageId}`
      : `sha256=${createHash("sha256").update(envelope.value).digest("hex")}`;
  }

  async #relay(envelope: Envelope, decoded: DecodedAny, deadLetter: DeadLetterWriter): Promise<Outcome> {
    const { route, dedup, metrics } = this.#deps;
    const id = this.#dedupId(envelope, decoded);
    const owner = `${this.#deps.instance}/${++claims}`;
    try {
      const claim = await dedup.claim(route.id, id, owner);
      this.#deps.log.trace({ route: route.id, id, claim }, "dedup claim");
      if (claim === "done") {
        metrics.deduped.inc();
        return "deduped";
      }
      if (claim === "busy") return { retry: `${id} is being relayed by another copy` };
    } catch (error) {
      return { retry: `redis: ${describeError(error)}` };
    }
    const copy: Envelope = { ...envelope, headers: new Map(envelope.headers) };
    stampHops(copy, { ...this.#places, route: route.id, instance: this.#deps.instance });
    try {
      await this.#publish(copy, decoded);
    } catch (error) {
      await dedup.release(route.id, id, owner);
      const code = error instanceof TransportError ? error.code : "PUBLISH_FAILED";
      if (MESSAGE_FAULTS.has(code)) {
        return this.#deadLetter(
          envelope,
          deadLetter,
          "rejected",
          { code, message: describeError(error) },
          decoded.writerName,
        );
      }
      return { retry: `destination: ${describeError(error)}` };
    }
    try {
      await dedup.done(route.id, id, route.dedupWindowMs ?? this.#deps.dedupWindowMs);
    } catch (error) {
      // The copy is at the destination: settle the source anyway (a redelivery could duplicate it, never lose it).
      this.#deps.log.warn(
        { route: route.id, error: describeError(error) },
        "could not mark a relayed message in Redis",
      );
    }
    metrics.relayed.inc();
    if (envelope.timestampMs !== undefined)
      metrics.latency.observe(Math.max(0, Date.now() - envelope.timestampMs) / 1000);
    return "relayed";
  }

  async #publish(copy: Envelope, decoded: DecodedAny): Promise<void> {
    const { route, events } = this.#deps;
    const event = events.get(decoded.writerName);
    const timeoutMs = this.#deps.publishTimeoutMs;
    if (route.to.broker === "kafka") {
      const key = event?.partitionKey ? (fieldValue(decoded.value, event.partitionKey) ?? null) : null;
      await this.#deps.publishKafka().publish(toKafka(copy, route.to.topic, key), { timeoutMs });
      return;
    }
    const template = route.to.routingKey ?? (copy.routingKey === undefined ? event?.routingKey : undefined);
    const routingKey = template ? renderTemplate(template, decoded.value) : (copy.routingKey ?? "");
    const priority = route.priority
      ? route.priority.values[fieldValue(decoded.value, route.priority.field) ?? ""]
      : undefined;
    // AMQP needs a message id: without one of its own, the message gets one from its body (hashed only then).
    const own = headerText(copy, "message-id");
    const fallbackId =
      own !== undefined && Buffer.byteLength(own) <= 255
        ? ""
        : `${decoded.writerName}:${createHash("sha256").update(copy.value).digest("hex").slice(0, 32)}`;
    await this.#deps
      .publishAmqp()
      .publish(toAmqp(copy, route.to.exchange, routingKey, fallbackId, priority), { timeoutMs });
  }
}
