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
      schemaRegistryUrl: "http://127.0.0.1:8081/apis/ccompat/v7",
      rabbitmqUrl: "amqp://guest:guest@127.0.0.1:5672",
    });
  });

  it("reads its own DLQ_MANAGER_ variables", () => {
    const config = loadConfig({ DLQ_MANAGER_PORT: "4002", DLQ_MANAGER_HOST: "0.0.0.0" });
    expect(config.port).toBe(4002);
    expect(config.host).toBe("0.0.0.0");
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
