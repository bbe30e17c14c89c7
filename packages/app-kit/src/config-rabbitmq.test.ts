import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadServiceConfig } from "./config.js";
import { explainRabbitmqFailure } from "./config-rabbitmq.js";

const demo = { app: "demo", envPrefix: "DEMO", defaultPort: 4100 };
const dir = mkdtempSync(join(tmpdir(), "kronos-rabbitmq-config-"));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const ca = file("ca.crt", "CA");
const cert = file("client.crt", "CERT");
const key = file("client.key", "KEY");
const passwordFile = file("password", "s3cret-from-file\n");

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadServiceConfig(demo, env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("RabbitMQ settings (readRabbitmqConfig through loadServiceConfig)", () => {
  it("keeps the URL's login and no TLS for the default amqp:// URL", () => {
    expect(loadServiceConfig(demo, {}).rabbitmq).toEqual({ username: "guest", passwordSource: "RABBITMQ_URL" });
  });

  it("reads the TLS files and a login apart from the URL, the password from RABBITMQ_PASSWORD_FILE", () => {
    const config = loadServiceConfig(demo, {
      RABBITMQ_URL: "amqps://rabbit.example:5671/kronos",
      RABBITMQ_SSL_CA_FILE: ca,
      RABBITMQ_SSL_CERT_FILE: cert,
      RABBITMQ_SSL_KEY_FILE: key,
      RABBITMQ_USERNAME: "kronos-gateway",
      RABBITMQ_PASSWORD_FILE: passwordFile,
    });
    expect(config.rabbitmq).toEqual({
      tls: { caFile: ca, certFile: cert, keyFile: key },
      credentials: { username: "kronos-gateway", password: "s3cret-from-file" },
      username: "kronos-gateway",
      passwordSource: "RABBITMQ_PASSWORD_FILE",
    });
  });

  it("takes the user name from the URL when only RABBITMQ_PASSWORD is set", () => {
    const config = loadServiceConfig(demo, { RABBITMQ_URL: "amqps://relay@h:5671", RABBITMQ_PASSWORD: "pw" });
    expect(config.rabbitmq.credentials).toEqual({ username: "relay", password: "pw" });
    expect(config.rabbitmq.passwordSource).toBe("RABBITMQ_PASSWORD");
  });

  it("reports TLS files with an amqp:// URL, a certificate without its key, an unreadable CA, and a password without a user", () => {
    const found = problems({
      RABBITMQ_URL: "amqp://h:5672",
      RABBITMQ_SSL_CA_FILE: join(dir, "missing.crt"),
      RABBITMQ_SSL_CERT_FILE: cert,
      RABBITMQ_PASSWORD: "hunter2-secret",
    });
    expect(found).toEqual([
      expect.stringMatching(/^RABBITMQ_SSL_CA_FILE=".*missing\.crt" is not a readable file \(ENOENT\)$/),
      "RABBITMQ_SSL_CA_FILE, RABBITMQ_SSL_CERT_FILE set but RABBITMQ_URL is not amqps://: use an amqps:// URL (TLS) or unset them",
      "RABBITMQ_SSL_CERT_FILE and RABBITMQ_SSL_KEY_FILE go together (a client certificate and its key): set both or neither",
      "RABBITMQ_PASSWORD is set but no user name: set RABBITMQ_USERNAME (or a user in RABBITMQ_URL)",
    ]);
    expect(found.join("\n")).not.toContain("hunter2-secret");
  });

  it("refuses RABBITMQ_PASSWORD and RABBITMQ_PASSWORD_FILE together", () => {
    expect(problems({ RABBITMQ_USERNAME: "u", RABBITMQ_PASSWORD: "a", RABBITMQ_PASSWORD_FILE: passwordFile })).toEqual([
      "RABBITMQ_PASSWORD and RABBITMQ_PASSWORD_FILE are both set: set one of them",
    ]);
  });
});

describe("explainRabbitmqFailure", () => {
  const config = loadServiceConfig(demo, {
    RABBITMQ_URL: "amqps://h:5671",
    RABBITMQ_USERNAME: "kronos-relay",
    RABBITMQ_PASSWORD: "pw",
  }).rabbitmq;
  const explain = explainRabbitmqFailure(config);

  it.each([
    ["login-refused", /refused the login of user "kronos-relay": check RABBITMQ_PASSWORD \(and RABBITMQ_USERNAME\)/],
    ["certificate-untrusted", /not trusted: check RABBITMQ_SSL_CA_FILE/],
    ["certificate-name", /does not name the host of RABBITMQ_URL/],
    ["tls-file", /check RABBITMQ_SSL_CA_FILE, RABBITMQ_SSL_CERT_FILE and RABBITMQ_SSL_KEY_FILE/],
    ["tls-handshake", /RABBITMQ_URL's port speaks TLS/],
    ["client-certificate-refused", /refused the client certificate: check RABBITMQ_SSL_CERT_FILE/],
  ] as const)("%s names the setting to check", (kind, text) => {
    expect(explain({ kind, detail: "x" })).toMatch(text);
  });

  it("names the vhost refused, and says nothing more than the error for a network failure", () => {
    expect(explain({ kind: "vhost-refused", detail: "x", vhost: "kronos" })).toMatch(
      /user "kronos-relay" may not use RabbitMQ vhost "kronos"/,
    );
    expect(explain({ kind: "network", detail: "connect ECONNREFUSED" })).toBeUndefined();
  });
});
