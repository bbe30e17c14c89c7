import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, EnvReader, loadServiceConfig } from "./config.js";

const demo = { app: "demo", envPrefix: "DEMO", defaultPort: 4100 };

function error(env: Record<string, string>): ConfigError {
  try {
    loadServiceConfig(demo, env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("loadServiceConfig", () => {
  it("takes the local stack defaults when nothing is set, or a variable is empty", () => {
    const config = loadServiceConfig(demo, { DEMO_PORT: "", KAFKA_BROKERS: " " });
    expect(config).toMatchObject({ app: "demo", host: "127.0.0.1", port: 4100, logLevel: "info" });
    expect(config.kafkaBrokers).toEqual(["127.0.0.1:9092"]);
  });

  it("reads every variable", () => {
    const config = loadServiceConfig(demo, {
      DEMO_HOST: "::1",
      DEMO_PORT: "0",
      LOG_LEVEL: "debug",
      KAFKA_BROKERS: "k1:9092, k2:19092",
      SCHEMA_REGISTRY_URL: "https://registry.example/apis/ccompat/v7/",
      RABBITMQ_URL: "amqps://u:p@rabbit.example:5671/vh",
      DEMO_PRINCIPALS_FILE: "/etc/kronos/demo.json",
      DEMO_JWT_SECRET: "0123456789abcdef0123456789abcdef",
    });
    expect(config).toEqual({
      app: "demo",
      host: "::1",
      port: 0,
      logLevel: "debug",
      kafkaBrokers: ["k1:9092", "k2:19092"],
      kafkaSecurity: { protocol: "PLAINTEXT" },
      schemaRegistryUrl: "https://registry.example/apis/ccompat/v7",
      schemaRegistry: {
        url: "https://registry.example/apis/ccompat/v7",
        auth: undefined,
        ca: undefined,
        caFile: undefined,
      },
      rabbitmqUrl: "amqps://u:p@rabbit.example:5671/vh",
      rabbitmq: { tls: {}, username: "u", passwordSource: "RABBITMQ_URL" },
      auth: {
        jwt: expect.objectContaining({ algorithms: ["HS256"] }),
        principalsFile: "/etc/kronos/demo.json",
      },
    });
  });

  it("reports an invalid auth setting with the others, naming the app's variable", () => {
    const e = error({ DEMO_PORT: "abc", DEMO_JWT_SECRET: "short" });
    expect(e.problems).toEqual([
      'DEMO_PORT="abc" is not a port (an integer from 0 to 65535)',
      "DEMO_JWT_SECRET is too short (5 bytes): HS256 needs at least 32 random bytes",
    ]);
  });

  it("names the variable and its value in the message, with the password hidden", () => {
    const e = error({ DEMO_PORT: "abc", RABBITMQ_URL: "amqp://u:secret@host:5672x" });
    expect(e.message).toContain("demo: invalid configuration");
    expect([...e.problems].sort()).toEqual([
      'DEMO_PORT="abc" is not a port (an integer from 0 to 65535)',
      'RABBITMQ_URL="amqp://u:***@host:5672x" is not an amqp:// or amqps:// URL',
    ]);
    expect(e.message).not.toContain("secret");
  });

  it.each(["1.5", "-3", "65536", "80 80"])("refuses the port %s", (port) => {
    expect(error({ DEMO_PORT: port }).problems[0]).toMatch(/^DEMO_PORT=".*" is not a port/);
  });

  it.each(["host", "host:0", "host:x", "a:1,,b:2"])("refuses the broker list %s", (brokers) => {
    expect(error({ KAFKA_BROKERS: brokers }).problems[0]).toMatch(/^KAFKA_BROKERS=".*" is not a comma-separated list/);
  });

  it("refuses a registry URL without http(s)", () => {
    expect(error({ SCHEMA_REGISTRY_URL: "localhost:8081" }).problems[0]).toMatch(/^SCHEMA_REGISTRY_URL=/);
  });
});

describe("EnvReader", () => {
  it("lets an app read its own variables along with the shared ones, then throws for all", () => {
    const reader = new EnvReader("demo", { DEMO_PORT: "x", DEMO_BATCH: "0" });
    loadServiceConfig(demo, {}, reader);
    reader.integer("DEMO_BATCH", 10, 1, 100);
    expect(() => reader.finish()).toThrow(/DEMO_BATCH="0" is not an integer from 1 to 100/);
  });
});

describe("EnvReader secrets and files", () => {
  const dir = mkdtempSync(join(tmpdir(), "kronos-config-"));
  const secretFile = join(dir, "secret");
  writeFileSync(secretFile, "s3cret-from-file\n");
  const emptyFile = join(dir, "empty");
  writeFileSync(emptyFile, "");

  function read<T>(env: Record<string, string>, get: (reader: EnvReader) => T): { value: T; problems: string[] } {
    const reader = new EnvReader("demo", env);
    const value = get(reader);
    try {
      reader.finish();
      return { value, problems: [] };
    } catch (e) {
      return { value, problems: [...(e as ConfigError).problems] };
    }
  }

  it("takes a secret from its variable or from the file <name>_FILE names, without the trailing newline", () => {
    expect(read({ DEMO_PASSWORD: "direct" }, (r) => r.secret("DEMO_PASSWORD"))).toEqual({
      value: "direct",
      problems: [],
    });
    expect(read({ DEMO_PASSWORD_FILE: secretFile }, (r) => r.secret("DEMO_PASSWORD")).value).toBe("s3cret-from-file");
    expect(read({}, (r) => r.secret("DEMO_PASSWORD")).value).toBeUndefined();
  });

  it("names the variable, never the secret, when both are set or the file is missing or empty", () => {
    const both = read({ DEMO_PASSWORD: "direct-value", DEMO_PASSWORD_FILE: secretFile }, (r) =>
      r.secret("DEMO_PASSWORD"),
    );
    expect(both.problems).toEqual(["DEMO_PASSWORD and DEMO_PASSWORD_FILE are both set: set one of them"]);
    const missing = read({ DEMO_PASSWORD_FILE: join(dir, "nope") }, (r) => r.secret("DEMO_PASSWORD"));
    expect(missing.problems[0]).toMatch(/^DEMO_PASSWORD_FILE=".*nope" cannot be read \(ENOENT\)$/);
    const empty = read({ DEMO_PASSWORD_FILE: emptyFile }, (r) => r.secret("DEMO_PASSWORD"));
    expect(empty.problems[0]).toContain("is an empty file");
    for (const p of [...both.problems, ...missing.problems, ...empty.problems]) expect(p).not.toContain("s3cret");
  });

  it("checks that a file setting names a readable file, and that a choice is one of its values", () => {
    expect(read({ DEMO_CA_FILE: secretFile }, (r) => r.readableFile("DEMO_CA_FILE")).value).toBe(secretFile);
    expect(read({ DEMO_CA_FILE: join(dir, "nope") }, (r) => r.readableFile("DEMO_CA_FILE")).problems[0]).toContain(
      "is not a readable file (ENOENT)",
    );
    expect(read({ DEMO_MODE: "b" }, (r) => r.choice("DEMO_MODE", ["a", "b"], "a")).value).toBe("b");
    expect(read({ DEMO_MODE: "c" }, (r) => r.choice("DEMO_MODE", ["a", "b"], "a")).problems).toEqual([
      'DEMO_MODE="c" is not one of a, b',
    ]);
  });
});
