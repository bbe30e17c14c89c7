import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { ConfigError, EnvReader, loadServiceConfig } from "./config.js";
import { readKafkaSecurity } from "./config-kafka.js";

const dir = mkdtempSync(join(tmpdir(), "kronos-config-kafka-"));
const caFile = join(dir, "ca.crt");
const certFile = join(dir, "client.crt");
const keyFile = join(dir, "client.key");
const passwordFile = join(dir, "password");
writeFileSync(caFile, "CA PEM\n");
writeFileSync(certFile, "CERT PEM\n");
writeFileSync(keyFile, "KEY PEM\n");
writeFileSync(passwordFile, "pw-from-file\n");

const PASSWORD = "correct-horse-battery";

/** The security settings `env` gives, or the ConfigError's problems. */
function read(env: Record<string, string>) {
  const reader = new EnvReader("demo", env);
  const config = readKafkaSecurity(reader, env);
  try {
    reader.finish();
    return { config, problems: [] as readonly string[] };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { config, problems: error.problems };
  }
}

describe("readKafkaSecurity", () => {
  it("PLAINTEXT by default: no TLS, no SASL", () => {
    expect(read({})).toEqual({ config: { protocol: "PLAINTEXT" }, problems: [] });
    expect(loadServiceConfig({ app: "demo", envPrefix: "DEMO", defaultPort: 1 }, {}).kafkaSecurity).toEqual({
      protocol: "PLAINTEXT",
    });
  });

  it("SASL_SSL: SCRAM-SHA-512 by default, the CA and client certificate read from their files", () => {
    const { config, problems } = read({
      KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
      KAFKA_SASL_USERNAME: "gateway",
      KAFKA_SASL_PASSWORD: PASSWORD,
      KAFKA_SSL_CA_FILE: caFile,
      KAFKA_SSL_CERT_FILE: certFile,
      KAFKA_SSL_KEY_FILE: keyFile,
    });
    expect(problems).toEqual([]);
    expect(config.protocol).toBe("SASL_SSL");
    expect(config.tls).toEqual({ ca: "CA PEM\n", cert: "CERT PEM\n", key: "KEY PEM\n" });
    expect({ ...config.sasl }).toEqual({ mechanism: "SCRAM-SHA-512", username: "gateway", password: PASSWORD });
  });

  it("takes the password from KAFKA_SASL_PASSWORD_FILE, and any supported mechanism", () => {
    for (const mechanism of ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]) {
      const { config, problems } = read({
        KAFKA_SECURITY_PROTOCOL: "SASL_PLAINTEXT",
        KAFKA_SASL_MECHANISM: mechanism,
        KAFKA_SASL_USERNAME: "relay",
        KAFKA_SASL_PASSWORD_FILE: passwordFile,
      });
      expect(problems).toEqual([]);
      expect(config.sasl).toMatchObject({ mechanism, username: "relay", password: "pw-from-file" });
      expect(config.tls).toBeUndefined();
    }
  });

  it("SSL alone: TLS with Node's CAs when no CA file is given", () => {
    expect(read({ KAFKA_SECURITY_PROTOCOL: "SSL" })).toEqual({ config: { protocol: "SSL", tls: {} }, problems: [] });
  });

  it("never shows the password when the configuration is logged or inspected", () => {
    const { config } = read({
      KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
      KAFKA_SASL_USERNAME: "gateway",
      KAFKA_SASL_PASSWORD: PASSWORD,
    });
    expect(config.sasl?.password).toBe(PASSWORD);
    expect(JSON.stringify(config)).not.toContain(PASSWORD);
    expect(JSON.stringify(config)).toContain('"username":"gateway"');
    expect(inspect(config, { depth: 5 })).not.toContain(PASSWORD);
  });

  it.each([
    [
      { KAFKA_SECURITY_PROTOCOL: "SASL_SSL" },
      [
        "KAFKA_SECURITY_PROTOCOL=SASL_SSL needs KAFKA_SASL_USERNAME: set the SASL user name",
        "KAFKA_SECURITY_PROTOCOL=SASL_SSL needs KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE: set the user's password",
      ],
    ],
    [
      { KAFKA_SECURITY_PROTOCOL: "TLS" },
      ['KAFKA_SECURITY_PROTOCOL="TLS" is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL'],
    ],
    [
      {
        KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
        KAFKA_SASL_MECHANISM: "GSSAPI",
        KAFKA_SASL_USERNAME: "u",
        KAFKA_SASL_PASSWORD: "p",
      },
      ['KAFKA_SASL_MECHANISM="GSSAPI" is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512'],
    ],
    [
      { KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: PASSWORD },
      [
        "KAFKA_SASL_USERNAME is set but KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use it: set KAFKA_SECURITY_PROTOCOL to SASL_SSL or SASL_PLAINTEXT, or unset KAFKA_SASL_USERNAME",
        "KAFKA_SASL_PASSWORD is set but KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use it: set KAFKA_SECURITY_PROTOCOL to SASL_SSL or SASL_PLAINTEXT, or unset KAFKA_SASL_PASSWORD",
      ],
    ],
    [
      {
        KAFKA_SECURITY_PROTOCOL: "SASL_PLAINTEXT",
        KAFKA_SASL_USERNAME: "u",
        KAFKA_SASL_PASSWORD: "p",
        KAFKA_SSL_CA_FILE: caFile,
      },
      [
        "KAFKA_SSL_CA_FILE is set but KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT does not use it: set KAFKA_SECURITY_PROTOCOL to SASL_SSL, or unset KAFKA_SSL_CA_FILE",
      ],
    ],
    [
      { KAFKA_SECURITY_PROTOCOL: "SSL", KAFKA_SSL_CERT_FILE: certFile },
      [
        "KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together (a client certificate and its key): set both or neither",
      ],
    ],
    [
      { KAFKA_SECURITY_PROTOCOL: "SSL", KAFKA_SSL_CA_FILE: join(dir, "missing.crt") },
      [`KAFKA_SSL_CA_FILE="${join(dir, "missing.crt")}" is not a readable file (ENOENT)`],
    ],
  ])("refuses settings that cannot work, naming the variables: %j", (env, expected) => {
    const { problems } = read(env);
    expect(problems).toEqual(expected);
    for (const problem of problems) expect(problem).not.toContain(PASSWORD);
  });
});
