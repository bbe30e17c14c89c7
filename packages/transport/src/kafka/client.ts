import { Kafka, type KafkaConfig, type RetryOptions } from "kafkajs";
import { silentLogger, type TransportLogger } from "../logger.js";
import { kafkaLogging } from "./log.js";
import { type KafkaSaslOptions, type KafkaTlsOptions, kafkaSecurityConfig } from "./security.js";

/**
 * Everything a kafkajs client of this package is made from: the settings of a `KafkaConnection` (brokers, client
 * id, timeouts, logger, TLS and SASL) plus the client's own kafkajs retries. Every client made from a connection
 * gets its security settings.
 */
export interface KafkaClientOptions {
  /** Bootstrap brokers, `host:port` each. */
  readonly brokers: readonly string[];
  /** The client id Kafka sees. */
  readonly clientId: string;
  /** Where kafkajs' own log lines go (WARN and above, one level quieter; see `kafkaLogging`). Default: nowhere. */
  readonly logger?: TransportLogger | undefined;
  /** TCP connect timeout per broker, in ms. Default: {@link DEFAULT_CONNECTION_TIMEOUT_MS}. */
  readonly connectionTimeoutMs?: number | undefined;
  /** Timeout of one Kafka request, in ms. Default: {@link DEFAULT_REQUEST_TIMEOUT_MS}. */
  readonly requestTimeoutMs?: number | undefined;
  /**
   * kafkajs' retries of the client (they also govern connecting). Default: none ({@link NO_RETRIES}), so Kafka
   * being down fails a call now and the caller decides what a retry is.
   */
  readonly retry?: RetryOptions | undefined;
  /** TLS (`SSL`, `SASL_SSL`): the broker's certificate is always verified. Default: plaintext. */
  readonly tls?: KafkaTlsOptions | undefined;
  /** SASL authentication (`SASL_PLAINTEXT`, `SASL_SSL`). Default: none. */
  readonly sasl?: KafkaSaslOptions | undefined;
}

/** Default of {@link KafkaClientOptions.connectionTimeoutMs}. */
export const DEFAULT_CONNECTION_TIMEOUT_MS = 1000;
/** Default of {@link KafkaClientOptions.requestTimeoutMs}. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** No retries inside kafkajs: connecting and requests fail at once. */
export const NO_RETRIES: RetryOptions = { retries: 0 };
/** Bounded retries for producers and consumers: 5, from 100 ms doubling to 1 s. */
export const BOUNDED_RETRIES: RetryOptions = { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 };

/**
 * The kafkajs configuration {@link createKafkaClient} makes a client with: the defaults applied, the logger
 * adapted. Pure; exported for the unit tests.
 */
export function kafkaClientConfig(options: KafkaClientOptions): KafkaConfig {
  return {
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout: options.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
    requestTimeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    ...kafkaLogging(options.logger ?? silentLogger),
    retry: everyBootstrapBroker(options.retry ?? NO_RETRIES, options.brokers.length),
    ...kafkaSecurityConfig(options.tls, options.sasl),
  };
}

/**
 * kafkajs tries the next bootstrap broker only on a retry (and starts each new client's cluster at the first one), so
 * with fewer retries than there are other brokers a client whose first broker is down never reaches the others:
 * after a cluster node died, every new producer failed on it (the battery's kafka-failover found it). Retries are
 * raised to one per other broker, quickly (50 ms, at most 200 ms apart), so "no retries" still fails at once when
 * every broker is down.
 */
export function everyBootstrapBroker(retry: RetryOptions, brokers: number): RetryOptions {
  const others = brokers - 1;
  if ((retry.retries ?? 5) >= others) return retry;
  return { ...retry, retries: others, initialRetryTime: 50, maxRetryTime: 200 };
}

/**
 * The one place a kafkajs client is made: brokers, client id, timeouts, retries and the log adapter
 * ({@link kafkaClientConfig}). Every client of @kronos/transport comes from here (through {@link kafkaClientFor}
 * when it belongs to a connection). Never throws; connects nothing (kafkajs connects its producers, consumers and
 * admin clients on `connect()`).
 */
export function createKafkaClient(options: KafkaClientOptions): Kafka {
  return new Kafka(kafkaClientConfig(options));
}

/** What a client made from a connection sets itself; the rest comes from the connection's settings. */
export type KafkaClientOverrides = Partial<Omit<KafkaClientOptions, "brokers">>;

const connectionSettings = new WeakMap<object, KafkaClientOptions>();

/**
 * Internal to @kronos/transport: remembers the settings `connection` was created with, for {@link kafkaClientFor}.
 * Called by `createKafkaConnection`.
 */
export function rememberKafkaSettings(connection: object, settings: KafkaClientOptions): void {
  connectionSettings.set(connection, settings);
}

/**
 * Internal to @kronos/transport: a kafkajs client on `connection`'s cluster with the connection's settings
 * (brokers, timeouts, and whatever else `createKafkaConnection` was given), `overrides` applied on top. An object
 * that was not made by `createKafkaConnection` lends only its `brokers`.
 */
export function kafkaClientFor(
  connection: { readonly brokers: readonly string[] },
  overrides: KafkaClientOverrides,
): Kafka {
  return createKafkaClient(kafkaClientOptionsFor(connection, overrides));
}

/** The options {@link kafkaClientFor} makes its client with. Exported for the unit tests. */
export function kafkaClientOptionsFor(
  connection: { readonly brokers: readonly string[] },
  overrides: KafkaClientOverrides,
): KafkaClientOptions {
  const settings = connectionSettings.get(connection) ?? { brokers: connection.brokers, clientId: "kronos" };
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  return { ...settings, ...defined };
}
