import type { RelayRoute } from "@kronos/catalog";
import {
  type AmqpConnectionManager,
  createTopic,
  deadLetterHeaders,
  deadLetterTopicName,
  declareQueue,
  describeTopics,
  type KafkaConnection,
  type RabbitManagementClient,
} from "@kronos/transport";
import type { FastifyBaseLogger } from "fastify";
import { AmqpSource } from "./amqp-source.js";
import { type Envelope, headerText, setHeader, toAmqp, toKafka } from "./envelope.js";
import { type KafkaSecurity, KafkaSource } from "./kafka-source.js";
import { type DeadLetterWriter, RouteRunner, type RunnerDeps } from "./runner.js";

/** A route's state: relaying, paused by an operator, or paused by itself because its destination failed. */
export type RouteState = "running" | "paused" | "degraded";

/** What a {@link Route} needs besides its runner's dependencies. */
export interface RouteDeps extends Omit<RunnerDeps, "log" | "route"> {
  readonly log: FastifyBaseLogger;
  readonly kafka: KafkaConnection;
  readonly kafkaBrokers: readonly string[];
  /** TLS and SASL of the app's Kafka connection (`config.kafkaSecurity`), for the Kafka sources. */
  readonly kafkaSecurity?: KafkaSecurity | undefined;
  readonly amqp: AmqpConnectionManager;
  readonly management: RabbitManagementClient;
  readonly prefetch: number;
  readonly fromBeginning: boolean;
  /** First wait before a degraded route tries again, in ms; doubles up to {@link maxBackoffMs}. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  readonly onState: (route: string, state: RouteState) => void;
}

/**
 * One running route: its source (a Kafka consumer group or a RabbitMQ queue), its {@link RouteRunner}, and its state.
 * When a message must be tried again (destination down or blocked, registry or Redis unreachable) the source is
 * paused, the route reports `degraded`, and after a backoff (doubling, capped) it resumes by itself: the first
 * message relayed makes it `running` again, another failure pauses it again. Nothing is buffered meanwhile: the
 * messages stay in the source (uncommitted, or requeued).
 */
export class Route {
  readonly route: RelayRoute;
  readonly #deps: RouteDeps;
  readonly #runner: RouteRunner;
  #source: KafkaSource | AmqpSource | undefined;
  #state: RouteState = "running";
  #operatorPaused = false;
  #timer: NodeJS.Timeout | undefined;
  #backoffMs: number;
  #reason: string | undefined;
  #dlqTopic: Promise<unknown> | undefined;

  constructor(route: RelayRoute, deps: RouteDeps) {
    this.route = route;
    this.#deps = deps;
    this.#backoffMs = deps.backoffMs;
    this.#runner = new RouteRunner({ ...deps, route, log: deps.log });
  }

  get state(): RouteState {
    return this.#state;
  }

  /** Why the route is degraded, when it is. */
  get reason(): string | undefined {
    return this.#state === "degraded" ? this.#reason : undefined;
  }

  /** Creates what the route reads from (idempotently), then starts reading. */
  async start(): Promise<void> {
    const { route } = this;
    const log = this.#deps.log.child({ route: route.id });
    if (route.from.broker === "kafka") {
      const source = new KafkaSource({
        brokers: this.#deps.kafkaBrokers,
        security: this.#deps.kafkaSecurity,
        clientId: `relay-${route.id}`,
        topic: route.from.topic,
        groupId: route.from.consumerGroup,
        fromBeginning: this.#deps.fromBeginning,
        maxInFlight: this.#deps.prefetch,
        log,
        handle: (envelope, position) => this.#handle(envelope, this.#kafkaDeadLetter(position)),
        onRetry: (reason) => this.#degrade(reason),
      });
      this.#source = source;
      const joined = source.joined(30_000);
      await source.start();
      await joined;
    } else {
      const { exchange, queue, bindingKeys } = route.from;
      const declare = () =>
        declareQueue(this.#deps.amqp, queue, {
          type: "quorum",
          bindings: bindingKeys.map((routingKey) => ({ exchange, routingKey })),
          deadLetter: true,
        });
      await declare();
      const source = new AmqpSource({
        manager: this.#deps.amqp,
        queue,
        declare,
        prefetch: this.#deps.prefetch,
        log,
        handle: (envelope, message) => this.#handle(envelope, this.#amqpDeadLetter(queue, message.fields.exchange)),
        onRetry: (reason) => this.#degrade(reason),
      });
      this.#source = source;
      source.start();
    }
    this.#setState("running");
  }

  async #handle(envelope: Envelope, deadLetter: DeadLetterWriter) {
    const outcome = await this.#runner.handle(envelope, deadLetter);
    if (typeof outcome !== "object" && this.#state === "degraded" && this.#timer === undefined) {
      this.#backoffMs = this.#deps.backoffMs;
      this.#setState("running");
    }
    return outcome;
  }

  #degrade(reason: string): void {
    this.#reason = reason;
    if (this.#timer !== undefined) return;
    this.#deps.log.warn({ route: this.route.id, reason, retryInMs: this.#backoffMs }, "route degraded: source paused");
    this.#source?.pause();
    this.#setState("degraded");
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#backoffMs = Math.min(this.#backoffMs * 2, this.#deps.maxBackoffMs);
      if (!this.#operatorPaused) this.#source?.resume();
    }, this.#backoffMs);
  }

  /** Operator pause: stops taking messages until {@link resume}. */
  pause(): void {
    this.#operatorPaused = true;
    this.#source?.pause();
    this.#setState("paused");
  }

  resume(): void {
    this.#operatorPaused = false;
    if (this.#timer === undefined) this.#source?.resume();
    this.#setState(this.#timer === undefined ? "running" : "degraded");
  }

  #setState(state: RouteState): void {
    if (this.#operatorPaused && state !== "paused") return;
    this.#state = state;
    this.#deps.onState(this.route.id, state);
  }

  /** Messages waiting in the source: the group's lag (Kafka) or the queue's ready messages (RabbitMQ). */
  async lag(): Promise<number | null> {
    const { from } = this.route;
    try {
      if (from.broker === "rabbitmq") return (await this.#deps.management.getQueue(from.queue))?.messagesReady ?? null;
      const [topic] = await describeTopics(this.#deps.kafka, [from.topic]);
      const group = topic?.consumerGroups.find((g) => g.groupId === from.consumerGroup);
      return group ? group.partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0) : null;
    } catch {
      return null;
    }
  }

  /** Dead letters of a Kafka source: `<topic>.dlq`, the original record plus the `x-kronos-dl-*` headers. */
  #kafkaDeadLetter(position: { partition: number; offset: string }): DeadLetterWriter {
    return async (envelope, reason, error, eventType) => {
      const { from } = this.route;
      if (from.broker !== "kafka") return;
      const topic = deadLetterTopicName(from.topic);
      this.#dlqTopic ??= createTopic(this.#deps.kafka, topic, { partitions: 1 }).catch((failure: unknown) => {
        this.#dlqTopic = undefined;
        throw failure;
      });
      await this.#dlqTopic;
      const copy = withDeadLetterHeaders(envelope, {
        reason,
        errorCode: error.code,
        error: error.message,
        broker: "kafka",
        destination: from.topic,
        partition: position.partition,
        offset: position.offset,
        eventType,
        consumer: from.consumerGroup,
      });
      await this.#deps.publishKafka().publish(toKafka(copy, topic, null), { timeoutMs: this.#deps.publishTimeoutMs });
    };
  }

  /** Dead letters of a RabbitMQ source: the queue's `<queue>.dlx` (routing key `<queue>`), as `declareQueue` made it. */
  #amqpDeadLetter(queue: string, exchange: string): DeadLetterWriter {
    return async (envelope, reason, error, eventType) => {
      const copy = withDeadLetterHeaders(envelope, {
        reason,
        errorCode: error.code,
        error: error.message,
        broker: "rabbitmq",
        destination: exchange,
        queue,
        routingKey: envelope.routingKey,
        eventType,
        consumer: `relay:${this.route.id}`,
      });
      const id = headerText(envelope, "message-id") ?? `relay-dead-letter-${Date.now()}`;
      await this.#deps.publishAmqp().publish(toAmqp(copy, `${queue}.dlx`, queue, id, undefined), {
        timeoutMs: this.#deps.publishTimeoutMs,
      });
    };
  }

  /** Stops reading; what is unsettled goes back to the source. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    await this.#source?.close();
  }
}

function withDeadLetterHeaders(
  envelope: Envelope,
  context: Omit<Parameters<typeof deadLetterHeaders>[0], "attempts" | "firstFailureMs" | "lastFailureMs" | "producer">,
): Envelope {
  const now = Date.now();
  const copy: Envelope = { ...envelope, headers: new Map(envelope.headers) };
  const headers = deadLetterHeaders({
    ...context,
    attempts: 1,
    firstFailureMs: now,
    lastFailureMs: now,
    producer: headerText(envelope, "producer"),
  });
  for (const [name, value] of Object.entries(headers)) setHeader(copy, name, value);
  return copy;
}
