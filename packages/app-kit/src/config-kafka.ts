import { readFileSync } from "node:fs";
import { inspect } from "node:util";
import {
  KAFKA_SASL_MECHANISMS,
  type KafkaSaslMechanism,
  type KafkaSaslOptions,
  type KafkaTlsOptions,
} from "@kronos/transport";
import type { EnvReader } from "./config.js";

/** Kafka's names for how a client talks to a listener (`security.protocol`). */
export const KAFKA_SECURITY_PROTOCOLS = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] as const;

/** One of {@link KAFKA_SECURITY_PROTOCOLS}. */
export type KafkaSecurityProtocol = (typeof KAFKA_SECURITY_PROTOCOLS)[number];

/** How an app reaches Kafka, validated: what `createKafkaConnection` takes as `tls` and `sasl`. */
export interface KafkaSecurityConfig {
  /** `KAFKA_SECURITY_PROTOCOL`, default PLAINTEXT. */
  readonly protocol: KafkaSecurityProtocol;
  /** TLS (SSL, SASL_SSL): the CA bundle and client certificate, read from their files. */
  readonly tls?: KafkaTlsOptions;
  /** SASL (SASL_PLAINTEXT, SASL_SSL). Its password never shows when the config is logged or inspected. */
  readonly sasl?: KafkaSaslOptions;
}

/** The variables {@link readKafkaSecurity} reads (for the README, `.env.example` and the tests). */
export const KAFKA_SECURITY_VARIABLES = [
  "KAFKA_SECURITY_PROTOCOL",
  "KAFKA_SASL_MECHANISM",
  "KAFKA_SASL_USERNAME",
  "KAFKA_SASL_PASSWORD",
  "KAFKA_SASL_PASSWORD_FILE",
  "KAFKA_SSL_CA_FILE",
  "KAFKA_SSL_CERT_FILE",
  "KAFKA_SSL_KEY_FILE",
] as const;

/** The SASL settings, with the password hidden from `JSON.stringify` and `util.inspect` (so from any log line). */
function saslSettings(mechanism: KafkaSaslMechanism, username: string, password: string): KafkaSaslOptions {
  const shown = { mechanism, username, password: "***" };
  return Object.defineProperties(
    { mechanism, username, password },
    {
      toJSON: { value: () => shown, enumerable: false },
      [inspect.custom]: { value: () => shown, enumerable: false },
    },
  );
}

const isSet = (env: Readonly<Record<string, string | undefined>>, name: string) => (env[name]?.trim() ?? "") !== "";

/**
 * Reads Kafka's security settings through `read` (its problems are reported with the others by `finish()`):
 *
 * - `KAFKA_SECURITY_PROTOCOL`: PLAINTEXT (default), SSL, SASL_PLAINTEXT or SASL_SSL;
 * - with SASL_*: `KAFKA_SASL_MECHANISM` (SCRAM-SHA-512 default, SCRAM-SHA-256, PLAIN), `KAFKA_SASL_USERNAME` and
 *   `KAFKA_SASL_PASSWORD` or `KAFKA_SASL_PASSWORD_FILE`, all required but the mechanism;
 * - with SSL and SASL_SSL: `KAFKA_SSL_CA_FILE` (the CA bundle the brokers' certificates chain to; default Node's
 *   public CAs), `KAFKA_SSL_CERT_FILE` and `KAFKA_SSL_KEY_FILE` (a client certificate for mutual TLS: both or none).
 *
 * A setting that the protocol would ignore is a problem (a password set for PLAINTEXT would silently not be used),
 * naming both variables. `env` is what `read` reads, to tell which variables are set.
 */
export function readKafkaSecurity(
  read: EnvReader,
  env: Readonly<Record<string, string | undefined>>,
): KafkaSecurityConfig {
  const protocol = read.choice("KAFKA_SECURITY_PROTOCOL", KAFKA_SECURITY_PROTOCOLS, "PLAINTEXT");
  const usesSasl = protocol === "SASL_PLAINTEXT" || protocol === "SASL_SSL";
  const usesTls = protocol === "SSL" || protocol === "SASL_SSL";
  const ignored = (names: readonly string[], needs: string) => {
    for (const name of names.filter((n) => isSet(env, n))) {
      read.problem(
        `${name} is set but KAFKA_SECURITY_PROTOCOL=${protocol} does not use it: set KAFKA_SECURITY_PROTOCOL to ${needs}, or unset ${name}`,
      );
    }
  };
  const config: { protocol: KafkaSecurityProtocol; tls?: KafkaTlsOptions; sasl?: KafkaSaslOptions } = { protocol };

  if (usesSasl) {
    const mechanism = read.choice("KAFKA_SASL_MECHANISM", KAFKA_SASL_MECHANISMS, "SCRAM-SHA-512");
    const username = env.KAFKA_SASL_USERNAME?.trim() ?? "";
    const password = read.secret("KAFKA_SASL_PASSWORD");
    if (username === "") {
      read.problem(`KAFKA_SECURITY_PROTOCOL=${protocol} needs KAFKA_SASL_USERNAME: set the SASL user name`);
    }
    if (password === undefined && !isSet(env, "KAFKA_SASL_PASSWORD_FILE")) {
      read.problem(
        `KAFKA_SECURITY_PROTOCOL=${protocol} needs KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE: set the user's password`,
      );
    }
    if (username !== "" && password !== undefined) config.sasl = saslSettings(mechanism, username, password);
  } else {
    ignored(
      ["KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "KAFKA_SASL_PASSWORD_FILE"],
      protocol === "SSL" ? "SASL_SSL" : "SASL_SSL or SASL_PLAINTEXT",
    );
  }

  if (usesTls) {
    const contents = (name: string) => {
      const file = read.readableFile(name);
      return file === undefined ? undefined : readFileSync(file, "utf8");
    };
    const ca = contents("KAFKA_SSL_CA_FILE");
    const cert = contents("KAFKA_SSL_CERT_FILE");
    const key = contents("KAFKA_SSL_KEY_FILE");
    if (isSet(env, "KAFKA_SSL_CERT_FILE") !== isSet(env, "KAFKA_SSL_KEY_FILE")) {
      read.problem(
        "KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together (a client certificate and its key): set both or neither",
      );
    }
    config.tls = {
      ...(ca === undefined ? {} : { ca }),
      ...(cert === undefined ? {} : { cert }),
      ...(key === undefined ? {} : { key }),
    };
  } else {
    ignored(
      ["KAFKA_SSL_CA_FILE", "KAFKA_SSL_CERT_FILE", "KAFKA_SSL_KEY_FILE"],
      usesSasl ? "SASL_SSL" : "SSL or SASL_SSL",
    );
  }
  return config;
}
