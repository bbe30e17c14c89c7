import type { KafkaConfig, SASLOptions } from "kafkajs";

/**
 * TLS to Kafka (`SSL` and `SASL_SSL` listeners). The broker's certificate is always verified, against `ca` when
 * given (else Node's bundled public CAs), and its name checked against the broker's host: there is no switch to
 * turn either off.
 */
export interface KafkaTlsOptions {
  /** PEM CA bundle (file contents) the broker's certificate must chain to. Default: Node's public CAs. */
  readonly ca?: string | undefined;
  /** PEM client certificate, for mutual TLS (with {@link key}). */
  readonly cert?: string | undefined;
  /** PEM private key of {@link cert}. */
  readonly key?: string | undefined;
}

/** SASL mechanisms the transport supports (kafkajs' own; OAUTHBEARER needs a token provider, not offered yet). */
export const KAFKA_SASL_MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const;

/** One of {@link KAFKA_SASL_MECHANISMS}. */
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/** SASL authentication (`SASL_PLAINTEXT` and `SASL_SSL` listeners). */
export interface KafkaSaslOptions {
  readonly mechanism: KafkaSaslMechanism;
  readonly username: string;
  /** Never logged, never in an error message. */
  readonly password: string;
}

/** The kafkajs `ssl` and `sasl` settings for `tls` and `sasl` (both optional: neither means plaintext). */
export function kafkaSecurityConfig(
  tls: KafkaTlsOptions | undefined,
  sasl: KafkaSaslOptions | undefined,
): Pick<KafkaConfig, "ssl" | "sasl"> {
  const config: Pick<KafkaConfig, "ssl" | "sasl"> = {};
  if (tls) {
    config.ssl = {
      // Stated although it is Node's default, so no spread of other options can turn it off.
      rejectUnauthorized: true,
      ...(tls.ca === undefined ? {} : { ca: [tls.ca] }),
      ...(tls.cert === undefined ? {} : { cert: tls.cert }),
      ...(tls.key === undefined ? {} : { key: tls.key }),
    };
  }
  if (sasl) {
    const mechanism = sasl.mechanism.toLowerCase() as "plain" | "scram-sha-256" | "scram-sha-512";
    config.sasl = { mechanism, username: sasl.username, password: sasl.password } as SASLOptions;
  }
  return config;
}

/** What went wrong with Kafka's security, from {@link kafkaSecurityFailure}. */
export type KafkaSecurityFailure = "authentication" | "certificate" | "authorization";

/** Node's codes for a certificate that does not verify (untrusted, wrong name, expired). */
const CERTIFICATE_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_UNTRUSTED",
]);

/** kafkajs protocol error types that mean an ACL refused the request. */
export const KAFKA_AUTHORIZATION_TYPES = new Set([
  "TOPIC_AUTHORIZATION_FAILED",
  "GROUP_AUTHORIZATION_FAILED",
  "CLUSTER_AUTHORIZATION_FAILED",
  "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
]);

/**
 * Which security failure `error` (anything kafkajs threw, possibly wrapped in `cause`, `originalError` or an
 * aggregate's `errors`) is: SASL authentication refused, the broker's certificate not verified, or an ACL refusing
 * the request; undefined for anything else.
 */
export function kafkaSecurityFailure(error: unknown): KafkaSecurityFailure | undefined {
  const found = new Set<KafkaSecurityFailure>();
  const seen = new Set<unknown>();
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== "object" || seen.has(value)) return;
    seen.add(value);
    const { name, type, code, cause, originalError, errors } = value as Record<string, unknown>;
    if (name === "KafkaJSSASLAuthenticationError" || type === "SASL_AUTHENTICATION_FAILED") found.add("authentication");
    if (typeof code === "string" && CERTIFICATE_CODES.has(code)) found.add("certificate");
    if (typeof type === "string" && KAFKA_AUTHORIZATION_TYPES.has(type)) found.add("authorization");
    visit(cause);
    visit(originalError);
    if (Array.isArray(errors)) for (const member of errors) visit(member);
  };
  visit(error);
  return (["certificate", "authentication", "authorization"] as const).find((failure) => found.has(failure));
}

/**
 * What to do about a security failure, for error messages: names the settings to check (the apps' environment
 * variables) and, for authentication, the user, never the password.
 */
export function kafkaSecurityAdvice(failure: KafkaSecurityFailure, sasl: KafkaSaslOptions | undefined): string {
  switch (failure) {
    case "authentication":
      return (
        `authentication failed for KAFKA_SASL_USERNAME${sasl ? `=${sasl.username} (${sasl.mechanism})` : ""}: ` +
        "check KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE) and KAFKA_SASL_MECHANISM"
      );
    case "certificate":
      return "the broker's certificate is not trusted: check KAFKA_SSL_CA_FILE (the CA that signed the broker's certificate) and that KAFKA_BROKERS names a host the certificate is for";
    case "authorization":
      return `not authorized by Kafka's ACLs${sasl ? ` for user ${sasl.username}` : ""}: ask Kafka's operator for an ACL on this topic or group, or use a topic and group the user may use`;
  }
}
