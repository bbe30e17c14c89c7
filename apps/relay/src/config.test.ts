import { ConfigError } from "@kronos/app-kit";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";

// The shared variables (KAFKA_BROKERS, SCHEMA_REGISTRY_URL, RABBITMQ_URL, LOG_LEVEL) and their checks are
// @kronos/app-kit's and tested there; this checks the relay's own name, prefix and defaults.
describe("relay configuration", () => {
  it("reads its authentication from RELAY_ variables, sharing the principals file's default", () => {
    const { auth } = loadConfig({
      RELAY_PRINCIPALS_FILE: "/etc/kronos/relay-principals.json",
      RELAY_JWT_SECRET: "0123456789abcdef0123456789abcdef",
      GATEWAY_JWT_PUBLIC_KEY: "/not/read/by/the/relay.pem",
    });
    expect(auth.principalsFile).toBe("/etc/kronos/relay-principals.json");
    expect(auth.jwt?.algorithms).toEqual(["HS256"]);
    expect(() => loadConfig({ RELAY_JWT_SECRET: "short" })).toThrow(/RELAY_JWT_SECRET is too short/);
  });

  it("defaults to the local stack on port 3001", () => {
    const { relay, auth, ...service } = loadConfig({});
    expect(auth).toEqual({ jwt: undefined, principalsFile: expect.stringMatching(/\/kronos\/principals\.json$/) });
    expect(service).toEqual({
      app: "relay",
      host: "127.0.0.1",
      port: 3001,
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
    });
    expect(relay).toMatchObject({
      routes: [],
      redisUrl: "redis://127.0.0.1:6379",
      hopLimit: 4,
      dedupWindowMs: 3_600_000,
      prefetch: 256,
      publishTimeoutMs: 10_000,
      backoffMs: 1000,
      maxBackoffMs: 15_000,
      kafkaFromBeginning: true,
      managementUrl: "http://guest:guest@127.0.0.1:15672",
    });
    expect(relay.schemasDir).toMatch(/schemas$/);
    expect(relay.instanceId).toMatch(/^[A-Za-z0-9._-]+$/);
  });

  it("reads the relay's settings, naming each invalid one", () => {
    const relay = loadConfig({ RELAY_ROUTES: "a, b", RELAY_HOP_LIMIT: "2", RELAY_KAFKA_FROM: "latest" }).relay;
    expect(relay).toMatchObject({ routes: ["a", "b"], hopLimit: 2, kafkaFromBeginning: false });
    let problems = "";
    try {
      loadConfig({
        RELAY_REDIS_URL: "http://x",
        RELAY_HOP_LIMIT: "0",
        RELAY_KAFKA_FROM: "middle",
        RELAY_INSTANCE_ID: "a b",
      });
    } catch (error) {
      problems = (error as ConfigError).problems.join("\n");
    }
    expect(problems).toContain('RELAY_REDIS_URL="http://x" is not an redis:// or rediss:// URL');
    expect(problems).toContain('RELAY_HOP_LIMIT="0" is not an integer from 1 to 100');
    expect(problems).toContain('RELAY_KAFKA_FROM="middle" is not earliest or latest');
    expect(problems).toContain('RELAY_INSTANCE_ID="a b" must be letters, digits, . _ -');
  });

  it("reads its own RELAY_ variables", () => {
    const config = loadConfig({ RELAY_PORT: "4001", RELAY_HOST: "0.0.0.0" });
    expect(config.port).toBe(4001);
    expect(config.host).toBe("0.0.0.0");
  });

  it("names its own variables when they are invalid, every one at once", () => {
    const error = (() => {
      try {
        return loadConfig({ RELAY_PORT: "abc", RELAY_HOST: "http://x", LOG_LEVEL: "loud" });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join("\n");
    expect(problems).toContain('RELAY_PORT="abc" is not a port');
    expect(problems).toContain('RELAY_HOST="http://x" is not a host name or IP address');
    expect(problems).toContain('LOG_LEVEL="loud" is not a log level');
  });
});
