import { ConfigError, EnvReader } from "@kronos/app-kit";
import { describe, expect, it } from "vitest";
import { readPublishConfig } from "./config.js";

const read = (env: Record<string, string>) => {
  const reader = new EnvReader("gateway", env);
  const config = readPublishConfig(env, reader);
  reader.finish();
  return config;
};

describe("readPublishConfig", () => {
  it("has defaults: 5 s timeout, 24 h idempotency window, batches of 500, keys in memory", () => {
    expect(read({})).toEqual({ timeoutMs: 5000, idempotencyTtlSeconds: 86400, batchMax: 500, redisUrl: undefined });
  });
  it("reads every variable and names the invalid ones", () => {
    expect(
      read({
        GATEWAY_PUBLISH_TIMEOUT_MS: "2000",
        GATEWAY_IDEMPOTENCY_TTL_SECONDS: "60",
        GATEWAY_PUBLISH_BATCH_MAX: "10",
        REDIS_URL: "redis://127.0.0.1:6379",
      }),
    ).toEqual({ timeoutMs: 2000, idempotencyTtlSeconds: 60, batchMax: 10, redisUrl: "redis://127.0.0.1:6379" });
    expect(() => read({ GATEWAY_PUBLISH_TIMEOUT_MS: "0", REDIS_URL: "http://x" })).toThrow(ConfigError);
    try {
      read({ GATEWAY_PUBLISH_TIMEOUT_MS: "0", REDIS_URL: "http://x" });
    } catch (error) {
      expect((error as ConfigError).problems.join("\n")).toMatch(/GATEWAY_PUBLISH_TIMEOUT_MS[\s\S]*REDIS_URL/);
    }
  });
});
