import { ConfigError } from "@kronos/app-kit";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";

// The shared variables (KAFKA_BROKERS, SCHEMA_REGISTRY_URL, RABBITMQ_URL, LOG_LEVEL) and their checks are
// @kronos/app-kit's and tested there; this checks the dlq-manager's own name, prefix and defaults.
describe("dlq-manager configuration", () => {
  it("defaults to the local stack on port 3002", () => {
    expect(loadConfig({})).toEqual({
      app: "dlq-manager",
      host: "127.0.0.1",
      port: 3002,
      logLevel: "info",
      kafkaBrokers: ["127.0.0.1:9092"],
      kafkaSecurity: { protocol: "PLAINTEXT" },
      schemaRegistryUrl: "http://127.0.0.1:8081/apis/ccompat/v7",
      schemaRegistry: {
        url: "http://127.0.0.1:8081/apis/ccompat/v7",
        auth: undefined,
        ca: undefined,
        caFile: undefined,
      },
      rabbitmqUrl: "amqp://guest:guest@127.0.0.1:5672",
      rabbitmq: { passwordSource: "RABBITMQ_URL", username: "guest" },
      databaseUrl: "postgres://postgres@127.0.0.1:5432/kronos_dlq",
      consumerGroup: "kronos-dlq-manager",
      sources: {
        fromCatalog: true,
        schemasDir: expect.stringMatching(/schemas$/),
        kafkaTopics: [],
        rabbitmqQueues: [],
      },
      replayMaxRate: 1000,
      auth: { jwt: undefined, principalsFile: expect.stringMatching(/\/kronos\/principals\.json$/) },
    });
  });

  it("reads its authentication from DLQ_MANAGER_ variables", () => {
    const { auth } = loadConfig({
      DLQ_MANAGER_PRINCIPALS_FILE: "/etc/kronos/ops.json",
      DLQ_MANAGER_JWT_SECRET: "0123456789abcdef0123456789abcdef",
    });
    expect(auth).toMatchObject({ principalsFile: "/etc/kronos/ops.json", jwt: { algorithms: ["HS256"] } });
    expect(() => loadConfig({ DLQ_MANAGER_JWT_ISSUER: "idp" })).toThrow(
      /DLQ_MANAGER_JWT_ISSUER\/DLQ_MANAGER_JWT_AUDIENCE/,
    );
  });

  it("reads its own DLQ_MANAGER_ variables", () => {
    const config = loadConfig({ DLQ_MANAGER_PORT: "4002", DLQ_MANAGER_HOST: "0.0.0.0" });
    expect(config.port).toBe(4002);
    expect(config.host).toBe("0.0.0.0");
  });

  it("reads the database, the consumer group and the extra dead-letter sources", () => {
    const config = loadConfig({
      DLQ_DATABASE_URL: "postgresql://dlq:secret@db.example:5433/dlq",
      DLQ_CONSUMER_GROUP: "dlq-test",
      DLQ_CATALOG_SOURCES: "false",
      DLQ_KAFKA_SOURCES: "orders.dlq, connect.errors",
      DLQ_RABBITMQ_SOURCES: "tasks.dlq",
      DLQ_REPLAY_MAX_RATE: "50",
    });
    expect(config.databaseUrl).toBe("postgresql://dlq:secret@db.example:5433/dlq");
    expect(config.consumerGroup).toBe("dlq-test");
    expect(config.sources).toMatchObject({
      fromCatalog: false,
      kafkaTopics: ["orders.dlq", "connect.errors"],
      rabbitmqQueues: ["tasks.dlq"],
    });
    expect(config.replayMaxRate).toBe(50);
  });

  it("refuses invalid values of its own variables, naming each, the password hidden", () => {
    expect(() =>
      loadConfig({
        DLQ_DATABASE_URL: "mysql://u:pw@h/db",
        DLQ_CATALOG_SOURCES: "yes",
        DLQ_KAFKA_SOURCES: "ok,not a topic",
        DLQ_REPLAY_MAX_RATE: "0",
        DLQ_MANAGER_PORT: "abc",
      }),
    ).toThrow(
      expect.objectContaining({
        name: "ConfigError",
        problems: [
          'DLQ_MANAGER_PORT="abc" is not a port (an integer from 0 to 65535)',
          'DLQ_DATABASE_URL="mysql://u:***@h/db" is not an postgres:// or postgresql:// URL',
          'DLQ_REPLAY_MAX_RATE="0" is not an integer from 1 to 100000',
          'DLQ_CATALOG_SOURCES="yes" is not true or false',
          'DLQ_KAFKA_SOURCES="ok,not a topic" is not a comma-separated list of Kafka topics ("not a topic" is not one)',
        ],
      }),
    );
  });

  it("names its own variables when they are invalid, every one at once", () => {
    const error = (() => {
      try {
        return loadConfig({ DLQ_MANAGER_PORT: "abc", DLQ_MANAGER_HOST: "http://x", LOG_LEVEL: "loud" });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join("\n");
    expect(problems).toContain('DLQ_MANAGER_PORT="abc" is not a port');
    expect(problems).toContain('DLQ_MANAGER_HOST="http://x" is not a host name or IP address');
    expect(problems).toContain('LOG_LEVEL="loud" is not a log level');
  });
});
