import { ConfigError } from "@kronos/app-kit";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("relay configuration", () => {
  it("defaults to the local stack on port 3001", () => {
    expect(loadConfig({})).toEqual({
      app: "relay",
      host: "127.0.0.1",
      port: 3001,
      logLevel: "info",
      kafkaBrokers: ["127.0.0.1:9092"],
      schemaRegistryUrl: "http://127.0.0.1:8081/apis/ccompat/v7",
      rabbitmqUrl: "amqp://guest:guest@127.0.0.1:5672",
    });
  });

  it("reads its own RELAY_ variables", () => {
    const config = loadConfig({ RELAY_PORT: "4001", RELAY_HOST: "0.0.0.0" });
    expect(config.port).toBe(4001);
    expect(config.host).toBe("0.0.0.0");
  });

  it.each([
    ["RELAY_PORT", "abc", 'RELAY_PORT="abc" is not a port'],
    ["RELAY_PORT", "70000", 'RELAY_PORT="70000" is not a port'],
    ["RELAY_HOST", "http://x", 'RELAY_HOST="http://x" is not a host name or IP address'],
    ["KAFKA_BROKERS", "localhost", 'KAFKA_BROKERS="localhost" is not a comma-separated list of host:port'],
    ["SCHEMA_REGISTRY_URL", "ftp://x", 'SCHEMA_REGISTRY_URL="ftp://x" is not an http:// or https:// URL'],
    ["RABBITMQ_URL", "http://x:y@h", 'RABBITMQ_URL="http://x:***@h" is not an amqp:// or amqps:// URL'],
    ["LOG_LEVEL", "loud", 'LOG_LEVEL="loud" is not a log level'],
  ])("rejects %s=%s, naming the variable", (name, value, expected) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(expected);
  });

  it("reports every invalid variable at once", () => {
    expect(problemsOf({ RELAY_PORT: "-1", LOG_LEVEL: "x" })).toHaveLength(2);
  });
});
