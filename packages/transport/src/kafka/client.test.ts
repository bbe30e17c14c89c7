import { describe, expect, it, vi } from "vitest";
import { silentLogger } from "../logger.js";
import {
  BOUNDED_RETRIES,
  DEFAULT_CONNECTION_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  everyBootstrapBroker,
  kafkaClientConfig,
  kafkaClientOptionsFor,
  NO_RETRIES,
} from "./client.js";
import { createKafkaConnection } from "./connection.js";

describe("kafkaClientConfig", () => {
  it("applies the defaults: 1 s to connect, 10 s per request, no kafkajs retries, WARN and above", () => {
    const config = kafkaClientConfig({ brokers: ["b1:9092"], clientId: "app" });
    expect(config).toMatchObject({
      clientId: "app",
      brokers: ["b1:9092"],
      connectionTimeout: DEFAULT_CONNECTION_TIMEOUT_MS,
      requestTimeout: DEFAULT_REQUEST_TIMEOUT_MS,
      retry: NO_RETRIES,
      logLevel: 2, // kafkajs' logLevel.WARN
    });
    expect(DEFAULT_CONNECTION_TIMEOUT_MS).toBe(1000);
    expect(DEFAULT_REQUEST_TIMEOUT_MS).toBe(10_000);
  });

  it("takes timeouts and retries as given, and writes kafkajs' lines to the logger one level quieter", () => {
    const logger = { ...silentLogger, warn: vi.fn() };
    const config = kafkaClientConfig({
      brokers: ["b:9092"],
      clientId: "app",
      connectionTimeoutMs: 3000,
      requestTimeoutMs: 7000,
      retry: BOUNDED_RETRIES,
      logger,
    });
    expect(config).toMatchObject({ connectionTimeout: 3000, requestTimeout: 7000, retry: BOUNDED_RETRIES });
    const log = config.logCreator?.(2);
    log?.({
      namespace: "Connection",
      level: 1,
      label: "ERROR",
      log: { message: "refused", timestamp: "t", broker: "b" },
    });
    expect(logger.warn).toHaveBeenCalledWith({ broker: "b", kafkajs: "Connection" }, "kafkajs: refused");
  });
});

describe("everyBootstrapBroker", () => {
  it("retries once per other bootstrap broker, quickly, when fewer retries were asked (kafkajs moves on only then)", () => {
    expect(everyBootstrapBroker(NO_RETRIES, 1)).toEqual(NO_RETRIES);
    expect(everyBootstrapBroker(NO_RETRIES, 3)).toEqual({ retries: 2, initialRetryTime: 50, maxRetryTime: 200 });
    expect(everyBootstrapBroker(BOUNDED_RETRIES, 3)).toEqual(BOUNDED_RETRIES);
    expect(kafkaClientConfig({ brokers: ["a:1", "b:1", "c:1"], clientId: "app" }).retry).toMatchObject({ retries: 2 });
  });
});

describe("kafkaClientOptionsFor", () => {
  it("a connection's clients share its brokers and timeouts; each sets its own client id, logger and retries", () => {
    const connection = createKafkaConnection({ brokers: ["k:9092"], clientId: "gateway", connectionTimeoutMs: 2500 });
    const options = kafkaClientOptionsFor(connection, {
      clientId: "kronos-publisher",
      retry: BOUNDED_RETRIES,
      requestTimeoutMs: undefined,
    });
    expect(options).toMatchObject({
      brokers: ["k:9092"],
      clientId: "kronos-publisher",
      connectionTimeoutMs: 2500,
      retry: BOUNDED_RETRIES,
    });
    // Not given to the connection, and undefined in the overrides: the factory's default applies.
    expect(kafkaClientConfig(options).requestTimeout).toBe(DEFAULT_REQUEST_TIMEOUT_MS);
  });

  it("an object not made by createKafkaConnection lends only its brokers", () => {
    expect(kafkaClientOptionsFor({ brokers: ["x:1"] }, { clientId: "c" })).toEqual({ brokers: ["x:1"], clientId: "c" });
  });
});

describe("kafkaClientConfig: security", () => {
  it("plaintext without TLS or SASL settings: no ssl, no sasl", () => {
    const config = kafkaClientConfig({ brokers: ["b:9092"], clientId: "app" });
    expect(config.ssl).toBeUndefined();
    expect(config.sasl).toBeUndefined();
  });

  it("TLS verifies the broker's certificate against the CA given, with the client certificate for mutual TLS", () => {
    const config = kafkaClientConfig({
      brokers: ["b:9094"],
      clientId: "app",
      tls: { ca: "CA PEM", cert: "CERT PEM", key: "KEY PEM" },
      sasl: { mechanism: "SCRAM-SHA-512", username: "gateway", password: "s3cret" },
    });
    expect(config.ssl).toEqual({ rejectUnauthorized: true, ca: ["CA PEM"], cert: "CERT PEM", key: "KEY PEM" });
    expect(config.sasl).toEqual({ mechanism: "scram-sha-512", username: "gateway", password: "s3cret" });
  });

  it.each([
    ["PLAIN", "plain"],
    ["SCRAM-SHA-256", "scram-sha-256"],
  ] as const)("SASL %s is kafkajs' %s; TLS without a CA trusts Node's public CAs", (mechanism, kafkajs) => {
    const config = kafkaClientConfig({
      brokers: ["b:9094"],
      clientId: "app",
      tls: {},
      sasl: { mechanism, username: "u", password: "p" },
    });
    expect(config.ssl).toEqual({ rejectUnauthorized: true });
    expect(config.sasl?.mechanism).toBe(kafkajs);
  });

  it("a connection's clients get its TLS and SASL settings", () => {
    const tls = { ca: "CA PEM" };
    const sasl = { mechanism: "SCRAM-SHA-256", username: "relay", password: "p" } as const;
    const connection = createKafkaConnection({ brokers: ["b:9094"], clientId: "relay", tls, sasl });
    expect(kafkaClientOptionsFor(connection, { clientId: "relay-publisher" })).toMatchObject({ tls, sasl });
  });
});
