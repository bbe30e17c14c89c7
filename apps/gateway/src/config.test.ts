import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { availableParallelism, homedir, tmpdir } from "node:os";
import { join } from "node:path";
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

describe("gateway configuration", () => {
  it("defaults to the local stack on port 3000", () => {
    // The publish and queue features check their own defaults.
    expect(loadConfig({})).toMatchObject({
      app: "gateway",
      host: "127.0.0.1",
      port: 3000,
      logLevel: "info",
      kafkaBrokers: ["127.0.0.1:9092"],
      schemaRegistryUrl: "http://127.0.0.1:8081/apis/ccompat/v7",
      rabbitmqUrl: "amqp://guest:guest@127.0.0.1:5672",
      auth: { jwt: undefined, principalsFile: join(homedir(), ".config", "kronos", "principals.json") },
      tls: undefined,
      bodyLimitBytes: 1024 * 1024,
      rateLimitPerMinute: 6000,
      timeouts: { headersMs: 10_000, requestMs: 15_000 },
    });
  });

  it("reads the limits and the principals file", () => {
    const config = loadConfig({
      GATEWAY_BODY_LIMIT_BYTES: "2048",
      GATEWAY_RATE_LIMIT_PER_MINUTE: "10",
      GATEWAY_PRINCIPALS_FILE: "/etc/kronos/p.json",
    });
    expect(config).toMatchObject({
      bodyLimitBytes: 2048,
      rateLimitPerMinute: 10,
      auth: { principalsFile: "/etc/kronos/p.json" },
    });
    expect(loadConfig({ XDG_CONFIG_HOME: "/cfg" }).auth.principalsFile).toBe("/cfg/kronos/principals.json");
  });

  it("reads TLS files, checking that the key belongs to the certificate", () => {
    const dir = mkdtempSync(join(tmpdir(), "gw-tls-"));
    const cert = (name: string) => {
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-subj",
          "/CN=localhost",
          "-days",
          "1",
          "-keyout",
          join(dir, `${name}.key`),
          "-out",
          join(dir, `${name}.crt`),
        ],
        { stdio: "ignore" },
      );
      return { crt: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
    };
    const a = cert("a");
    const b = cert("b");
    const tls = loadConfig({ GATEWAY_TLS_CERT: a.crt, GATEWAY_TLS_KEY: a.key }).tls;
    expect(tls).toMatchObject({ certFile: a.crt, keyFile: a.key });
    expect(tls?.cert).toContain("BEGIN CERTIFICATE");
    expect(JSON.stringify(tls)).not.toContain("PRIVATE KEY");
    expect(problemsOf({ GATEWAY_TLS_CERT: a.crt, GATEWAY_TLS_KEY: b.key })).toEqual([
      `GATEWAY_TLS_KEY="${b.key}" is not the private key of the certificate in GATEWAY_TLS_CERT`,
    ]);
    writeFileSync(join(dir, "junk.pem"), "junk");
    expect(problemsOf({ GATEWAY_TLS_CERT: join(dir, "junk.pem"), GATEWAY_TLS_KEY: a.key })).toEqual([
      `GATEWAY_TLS_CERT="${join(dir, "junk.pem")}" does not hold a PEM certificate`,
    ]);
    expect(problemsOf({ GATEWAY_TLS_CERT: a.crt, GATEWAY_TLS_KEY: a.crt })).toEqual([
      `GATEWAY_TLS_KEY="${a.crt}" does not hold an unencrypted PEM private key`,
    ]);
  });

  it("reads its own GATEWAY_ variables", () => {
    const config = loadConfig({ GATEWAY_PORT: "4000", GATEWAY_HOST: "0.0.0.0" });
    expect(config.port).toBe(4000);
    expect(config.host).toBe("0.0.0.0");
  });

  it.each([
    ["GATEWAY_PORT", "abc", 'GATEWAY_PORT="abc" is not a port'],
    ["GATEWAY_PORT", "70000", 'GATEWAY_PORT="70000" is not a port'],
    ["GATEWAY_HOST", "http://x", 'GATEWAY_HOST="http://x" is not a host name or IP address'],
    ["KAFKA_BROKERS", "localhost", 'KAFKA_BROKERS="localhost" is not a comma-separated list of host:port'],
    ["SCHEMA_REGISTRY_URL", "ftp://x", 'SCHEMA_REGISTRY_URL="ftp://x" is not an http:// or https:// URL'],
    ["RABBITMQ_URL", "http://x:y@h", 'RABBITMQ_URL="http://x:***@h" is not an amqp:// or amqps:// URL'],
    ["LOG_LEVEL", "loud", 'LOG_LEVEL="loud" is not a log level'],
    ["GATEWAY_BODY_LIMIT_BYTES", "0", 'GATEWAY_BODY_LIMIT_BYTES="0" is not an integer from 1'],
    ["GATEWAY_RATE_LIMIT_PER_MINUTE", "many", 'GATEWAY_RATE_LIMIT_PER_MINUTE="many" is not an integer'],
    ["GATEWAY_TLS_CERT", "/no/cert.pem", "GATEWAY_TLS_KEY is not set but GATEWAY_TLS_CERT is"],
    ["GATEWAY_TLS_KEY", "/no/key.pem", "GATEWAY_TLS_CERT is not set but GATEWAY_TLS_KEY is"],
    ["GATEWAY_JWT_SECRET", "too-short", "GATEWAY_JWT_SECRET is too short"],
    ["GATEWAY_REQUEST_TIMEOUT_MS", "5", 'GATEWAY_REQUEST_TIMEOUT_MS="5" is not an integer from 100'],
    [
      "GATEWAY_REQUEST_TIMEOUT_MS",
      "5000",
      "GATEWAY_HEADERS_TIMEOUT_MS=10000 is longer than GATEWAY_REQUEST_TIMEOUT_MS=5000",
    ],
  ])("rejects %s=%s, naming the variable", (name, value, expected) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(expected);
  });

  it("reports every invalid variable at once", () => {
    expect(problemsOf({ GATEWAY_PORT: "-1", LOG_LEVEL: "x" })).toHaveLength(2);
    expect(
      problemsOf({
        GATEWAY_PORT: "-1",
        GATEWAY_TLS_CERT: "/no/c.pem",
        GATEWAY_TLS_KEY: "/no/k.pem",
        GATEWAY_JWT_SECRET: "s",
      }),
    ).toEqual([
      expect.stringContaining("GATEWAY_PORT="),
      expect.stringContaining("GATEWAY_JWT_SECRET is too short"),
      'GATEWAY_TLS_CERT="/no/c.pem" cannot be read (ENOENT)',
      'GATEWAY_TLS_KEY="/no/k.pem" cannot be read (ENOENT)',
    ]);
  });

  it("runs one worker by default; auto is the cores; several need REDIS_URL", () => {
    expect(loadConfig({})).toMatchObject({ workers: 1, forwardTimeoutMs: 5000 });
    expect(loadConfig({ GATEWAY_WORKERS: "auto", REDIS_URL: "redis://127.0.0.1:6379" }).workers).toBe(
      availableParallelism(),
    );
    expect(loadConfig({ GATEWAY_WORKERS: "3", REDIS_URL: "redis://127.0.0.1:6379" }).workers).toBe(3);
    expect(problemsOf({ GATEWAY_WORKERS: "2" })).toEqual([expect.stringMatching(/^GATEWAY_WORKERS=2 .*REDIS_URL/)]);
    expect(problemsOf({ GATEWAY_WORKERS: "many" })).toEqual([expect.stringContaining('GATEWAY_WORKERS="many"')]);
  });

  it("takes GATEWAY_INSTANCE_ID as the instance id, or makes a random one per start", () => {
    expect(loadConfig({ GATEWAY_INSTANCE_ID: "gw-eu_1" }).instanceId).toBe("gw-eu_1");
    expect(loadConfig({}).instanceId).not.toBe(loadConfig({}).instanceId);
    expect(problemsOf({ GATEWAY_INSTANCE_ID: "a.b" })).toEqual([expect.stringContaining('GATEWAY_INSTANCE_ID="a.b"')]);
  });
});
