import { avroToJson, type EncodeOptions, type EventDescriptor, type RegistrySerde } from "@kronos/contracts";
import {
  type AmqpPublisher,
  type KafkaPublisher,
  type RequestReply,
  TransportError,
  withTimeout,
} from "@kronos/transport";
import type { FastifyInstance } from "fastify";
import type { Broker, Destinations } from "../contracts/index.js";

import { decodeBody } from "./decode.js";
import { decodeFailure, type MessageFailure, type MessageOutcome, requestFailure, sendFailure } from "./failures.js";
import {
  amqpMessageOf,
  type CheckedMessage,
  type CheckResult,
  checkMessage,
  kafkaRecordOf,
  type MessageContext,
  type MessageInput,
  type PublishAck,
} from "./message.js";

/** Where a route counts what happened to its messages (its own metrics). */
export interface MessageRecorder {
  /** One message ended with `outcome`; `seconds` since the HTTP request started, when it was sent or tried. */
  outcome(topic: string, broker: Broker, outcome: MessageOutcome, seconds?: number): void;
  /** A payload its schema refused (called after `outcome(..., "invalid")`). */
  invalid?(event: string): void;
}

/** What {@link MessageCore} works with. */
export interface MessageCoreOptions {
  /** Destination resolution and the event descriptors (`app.contracts`). */
  readonly contracts: {
    readonly destinations: Destinations;
    readonly events: ReadonlyMap<string, EventDescriptor<unknown>>;
  };
  /** Confluent-framed Avro with registered schema ids. */
  readonly serde: RegistrySerde;
  /** The broker publishers (`app.publishers`). */
  readonly publishers: { readonly kafka: KafkaPublisher; readonly amqp: AmqpPublisher };
  /** The calling route's metrics. */
  readonly recorder: MessageRecorder;
}

/**
 * The message core of a route plugin: `app.contracts`, the registry serde and the publishers of `app.publishers`,
 * counting into `recorder` (the route's metrics).
 */
export function messageCoreOf(
  app: Pick<FastifyInstance, "contracts" | "publishers">,
  recorder: MessageRecorder,
): MessageCore {
  return new MessageCore({
    contracts: app.contracts,
    serde: app.publishers.serde,
    publishers: app.publishers,
    recorder,
  });
}

/** When a message's HTTP request started and when it must be answered (`performance.now()` times, ms). */
export interface Clock {
  readonly started: number;
  readonly deadline: number;
}

/** A clock starting now with `timeoutMs` to go. */
export function clockOf(timeoutMs: number): Clock {
  const started = performance.now();
  return { started, deadline: started + timeoutMs };
}

/** One message's end: the broker's ack, or the failure the client gets. */
export type Sent =
  | { readonly ok: true; readonly message: CheckedMessage; readonly ack: PublishAck }
  | { readonly ok: false; readonly message: CheckedMessage; readonly failure: MessageFailure };

/** The reply as the client gets it (the `reply` of `POST /request`'s 200 body). */
export interface DecodedReply {
  readonly event: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly payload: unknown;
}

/** Sends an encoded request and resolves with its reply (the transport's requesters). */
export type SendRequest = (message: CheckedMessage, bytes: Buffer, timeoutMs: number) => Promise<RequestReply>;

/** The least time a reply gets to be decoded, in ms, even when it came just before the request's timeout. */
const DECODE_MIN_MS = 2000;

/**
 * The one place a message goes through the gateway, for `POST /publish`, `/publish/batch` and `/request`: check
 * (route it, convert and validate its payload), encode with the registry, send, count it in the route's metrics,
 * and map a failure to the answer of the gateway error table. Routes only parse HTTP and shape the answer.
 * Replies are decoded by {@link decodeBody}, as subscriptions' deliveries are.
 */
export class MessageCore {
  readonly #options: MessageCoreOptions;

  constructor(options: MessageCoreOptions) {
    this.#options = options;
  }

  /**
   * Routes and checks one message (see {@link checkMessage}; throws its `HttpError`s). An invalid payload is
   * counted (`invalid`) and returned with its violations.
   */
  check(input: MessageInput, context: MessageContext): CheckResult {
    const { destinations } = this.#options.contracts;
    const result = checkMessage(destinations, input, context);
    if (!result.ok) {
      const { recorder } = this.#options;
      recorder.outcome(input.topic, destinations.resolve(input).destination.broker, "invalid");
      recorder.invalid?.(result.event);
    }
    return result;
  }

  /** Encodes a checked message (registry schema id, looked up or registered once) before `deadline`. */
  encode(message: CheckedMessage, deadline: number): Promise<Buffer> {
    return withTimeout(
      this.#options.serde.encode(message.route.event, message.value, encodeOptions(message)),
      left(deadline),
      encodingOf(message),
    );
  }

  /** Encodes and sends one message, resolving once the broker acknowledged it or with the failure; counts it. */
  async publish(message: CheckedMessage, clock: Clock): Promise<Sent> {
    let bytes: Buffer;
    try {
      bytes = await this.encode(message, clock.deadline);
    } catch (error) {
      return this.#failed(message, clock, () => sendFailure(error, message));
    }
    return this.#send(message, bytes, clock);
  }

  /**
   * Encodes every message first and sends none when one cannot be encoded (`encodeFailure`: the first failing
   * message's failure, naming that message's destination; every message is counted with its outcome); otherwise
   * sends all at once (the Kafka publisher coalesces them) and gives each message's end, in order.
   */
  async publishAll(
    messages: readonly CheckedMessage[],
    clock: Clock,
  ): Promise<{ readonly sent: Sent[] } | { readonly encodeFailure: MessageFailure; readonly index: number }> {
    const encoded = await this.#encodeAll(messages, clock.deadline);
    const index = encoded.findIndex((result) => result.status === "rejected");
    if (index >= 0) {
      const message = messages[index] as CheckedMessage;
      const failure = this.#mapped(message, clock, () =>
        sendFailure((encoded[index] as PromiseRejectedResult).reason, message),
      );
      for (const m of messages) this.#options.recorder.outcome(m.destination.name, m.route.broker, failure.outcome);
      return { encodeFailure: failure, index };
    }
    const sent = await Promise.all(
      messages.map((message, i) => this.#send(message, (encoded[i] as PromiseFulfilledResult<Buffer>).value, clock)),
    );
    return { sent };
  }

  /**
   * {@link encode} of every message, under one timer for them all (a timer per message cost the batch route
   * about a tenth of its time): when `deadline` passes first, the first message not encoded by then fails with the
   * `TIMEOUT` that {@link encode} would have given it.
   */
  async #encodeAll(messages: readonly CheckedMessage[], deadline: number): Promise<PromiseSettledResult<Buffer>[]> {
    const { serde } = this.#options;
    const timeoutMs = left(deadline);
    const pending = messages.map((message) => serde.encode(message.route.event, message.value, encodeOptions(message)));
    try {
      return await withTimeout(Promise.allSettled(pending), timeoutMs, "encoding");
    } catch {
      // Settled ones win a race against an already resolved promise; the rest are still pending.
      const pendingMark = Symbol("pending");
      const states = await Promise.all(
        pending.map((promise) => Promise.allSettled([Promise.race([promise, pendingMark])]).then(([state]) => state)),
      );
      const first = states.findIndex((state) => state?.status === "fulfilled" && state.value === pendingMark);
      return states.map((state, i): PromiseSettledResult<Buffer> => {
        if (i !== first) return state as PromiseSettledResult<Buffer>;
        const what = encodingOf(messages[i] as CheckedMessage);
        return {
          status: "rejected",
          // withTimeout's message, as encode() gives it.
          reason: new TransportError("TIMEOUT", `${what} timed out after ${timeoutMs} ms`),
        };
      });
    }
  }

  /**
   * Encodes and sends a request with `send`, waits for its reply until the clock's deadline and decodes it (with
   * at least 2 s for the decoding: a reply in hand is not thrown away for want of time); counts it (`answered`,
   * or the failure's outcome). `timeoutMs` names the client's timeout in a `REPLY_TIMEOUT` message.
   */
  async request(
    message: CheckedMessage,
    clock: Clock,
    send: SendRequest,
    timeoutMs: number,
  ): Promise<
    { readonly ok: true; readonly reply: DecodedReply } | { readonly ok: false; readonly failure: MessageFailure }
  > {
    let received: RequestReply;
    try {
      const bytes = await this.encode(message, clock.deadline);
      received = await send(message, bytes, left(clock.deadline));
    } catch (error) {
      return {
        ok: false,
        failure: this.#recordFailure(message, clock, () => requestFailure(error, message, timeoutMs)),
      };
    }
    try {
      const decodeMs = Math.max(DECODE_MIN_MS, left(clock.deadline));
      const { serde, contracts } = this.#options;
      const eventType = received.headers["event-type"];
      const { event, value } = await decodeBody(serde, contracts.events, received.body, eventType, decodeMs);
      this.#record(message, "answered", clock);
      return { ok: true, reply: { event, headers: received.headers, payload: avroToJson(value) } };
    } catch (error) {
      return { ok: false, failure: this.#recordFailure(message, clock, () => decodeFailure(error, message)) };
    }
  }

  async #send(message: CheckedMessage, bytes: Buffer, clock: Clock): Promise<Sent> {
    const { publishers } = this.#options;
    const topic = message.destination.name;
    try {
      let ack: PublishAck;
      if (message.route.broker === "kafka") {
        const kafka = await publishers.kafka.publish(kafkaRecordOf(message, bytes), {
          timeoutMs: left(clock.deadline),
        });
        ack = {
          messageId: message.messageId,
          topic,
          broker: "kafka",
          partition: kafka.partition,
          offset: kafka.offset,
        };
      } else {
        await publishers.amqp.publish(amqpMessageOf(message, bytes), { timeoutMs: left(clock.deadline) });
        ack = { messageId: message.messageId, topic, broker: "rabbitmq" };
      }
      this.#record(message, "accepted", clock);
      return { ok: true, message, ack };
    } catch (error) {
      return this.#failed(message, clock, () => sendFailure(error, message));
    }
  }

  #failed(message: CheckedMessage, clock: Clock, map: () => MessageFailure): Sent {
    return { ok: false, message, failure: this.#recordFailure(message, clock, map) };
  }

  #recordFailure(message: CheckedMessage, clock: Clock, map: () => MessageFailure): MessageFailure {
    const failure = this.#mapped(message, clock, map);
    this.#record(message, failure.outcome, clock);
    return failure;
  }

  /** Maps a failure; an error the table does not know is counted as `error` and rethrown (a 500). */
  #mapped(message: CheckedMessage, clock: Clock, map: () => MessageFailure): MessageFailure {
    try {
      return map();
    } catch (unexpected) {
      this.#record(message, "error", clock);
      throw unexpected;
    }
  }

  #record(message: CheckedMessage, outcome: MessageOutcome, clock: Clock): void {
    const seconds = (performance.now() - clock.started) / 1000;
    this.#options.recorder.outcome(message.destination.name, message.route.broker, outcome, seconds);
  }
}

/** What encoding `message` is called in a timeout's message. */
function encodingOf(message: CheckedMessage): string {
  return `encoding ${message.route.event.name} (schema registry)`;
}

/** What is left until `deadline`, at least 1 ms. */
function left(deadline: number): number {
  return Math.max(1, deadline - performance.now());
}

/**
 * The topic whose subject frames a message: its Kafka topic (under a topic naming strategy an event has a subject
 * per topic), none for RabbitMQ (the event's default subject).
 */
function encodeOptions(message: CheckedMessage): EncodeOptions | undefined {
  return message.route.broker === "kafka" ? { topic: message.destination.name } : undefined;
}
