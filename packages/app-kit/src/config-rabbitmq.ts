import type { AmqpConnectFailure, AmqpCredentials, AmqpTlsOptions } from "@kronos/transport";
import type { EnvReader } from "./config.js";

/**
 * How an app logs in to RabbitMQ and secures the connection, besides `RABBITMQ_URL`: the TLS files of an `amqps:`
 * URL and a login given apart from the URL. Read by {@link readRabbitmqConfig}; the amqp plugin hands it to the
 * transport's `AmqpConnectionManager`.
 */
export interface RabbitmqConfig {
  /** `RABBITMQ_SSL_CA_FILE`, `RABBITMQ_SSL_CERT_FILE`, `RABBITMQ_SSL_KEY_FILE`; absent for `amqp:` URLs. */
  readonly tls?: AmqpTlsOptions;
  /**
   * `RABBITMQ_USERNAME` and `RABBITMQ_PASSWORD` (or `RABBITMQ_PASSWORD_FILE`), each falling back to the URL's
   * userinfo; absent when neither variable is set (the URL's userinfo, or amqplib's guest, is used).
   */
  readonly credentials?: AmqpCredentials;
  /** The user the app logs in as (for messages): the credentials' or the URL's, `guest` when none. */
  readonly username: string;
  /** Where the password comes from, named in error hints: a variable, or `RABBITMQ_URL`. */
  readonly passwordSource: "RABBITMQ_PASSWORD" | "RABBITMQ_PASSWORD_FILE" | "RABBITMQ_URL";
}

/**
 * Reads `RABBITMQ_SSL_CA_FILE`, `RABBITMQ_SSL_CERT_FILE`, `RABBITMQ_SSL_KEY_FILE`, `RABBITMQ_USERNAME` and
 * `RABBITMQ_PASSWORD` / `RABBITMQ_PASSWORD_FILE` with `read`, against the already validated `url`. Problems go to
 * `read` (its `finish()` reports them): a TLS file that is not readable, TLS files with an `amqp:` URL (they would
 * be ignored silently), a certificate without its key or the reverse, a password without any user name.
 */
export function readRabbitmqConfig(read: EnvReader, url: string): RabbitmqConfig {
  const parsed = new URL(url);
  const caFile = read.readableFile("RABBITMQ_SSL_CA_FILE");
  const certFile = read.readableFile("RABBITMQ_SSL_CERT_FILE");
  const keyFile = read.readableFile("RABBITMQ_SSL_KEY_FILE");
  const anyTls = ["RABBITMQ_SSL_CA_FILE", "RABBITMQ_SSL_CERT_FILE", "RABBITMQ_SSL_KEY_FILE"].filter(
    (name) => read.optional(name) !== undefined,
  );
  if (anyTls.length > 0 && parsed.protocol !== "amqps:") {
    read.problem(`${anyTls.join(", ")} set but RABBITMQ_URL is not amqps://: use an amqps:// URL (TLS) or unset them`);
  }
  const hasCert = read.optional("RABBITMQ_SSL_CERT_FILE") !== undefined;
  const hasKey = read.optional("RABBITMQ_SSL_KEY_FILE") !== undefined;
  if (hasCert !== hasKey) {
    read.problem(
      "RABBITMQ_SSL_CERT_FILE and RABBITMQ_SSL_KEY_FILE go together (a client certificate and its key): set both or neither",
    );
  }
  const tls: AmqpTlsOptions = {
    ...(caFile !== undefined ? { caFile } : {}),
    ...(certFile !== undefined ? { certFile } : {}),
    ...(keyFile !== undefined ? { keyFile } : {}),
  };

  const envUser = read.optional("RABBITMQ_USERNAME");
  const envPassword = read.secret("RABBITMQ_PASSWORD");
  const urlUser = decodeURIComponent(parsed.username);
  const urlPassword = decodeURIComponent(parsed.password);
  const username = envUser ?? (urlUser || "guest");
  const passwordSource =
    envPassword === undefined
      ? "RABBITMQ_URL"
      : read.optional("RABBITMQ_PASSWORD_FILE") !== undefined
        ? "RABBITMQ_PASSWORD_FILE"
        : "RABBITMQ_PASSWORD";
  let credentials: AmqpCredentials | undefined;
  if (envUser !== undefined || envPassword !== undefined) {
    if (envUser === undefined && urlUser === "") {
      read.problem("RABBITMQ_PASSWORD is set but no user name: set RABBITMQ_USERNAME (or a user in RABBITMQ_URL)");
    }
    credentials = { username, password: envPassword ?? urlPassword };
  }
  return {
    ...(parsed.protocol === "amqps:" ? { tls } : {}),
    ...(credentials ? { credentials } : {}),
    username,
    passwordSource,
  };
}

/**
 * What to fix for a failed RabbitMQ connection attempt, naming the variable to check (for `AmqpConnectionOptions`'
 * `explain`): a refused login names the user and where its password comes from, an untrusted certificate names
 * `RABBITMQ_SSL_CA_FILE`, and so on. Undefined when the failure's own message says it best (network errors).
 */
export function explainRabbitmqFailure(config: RabbitmqConfig): (failure: AmqpConnectFailure) => string | undefined {
  return (failure) => {
    switch (failure.kind) {
      case "login-refused":
        return `RabbitMQ refused the login of user "${config.username}": check ${config.passwordSource} (and RABBITMQ_USERNAME)`;
      case "vhost-refused":
        return `user "${config.username}" may not use RabbitMQ vhost "${failure.vhost ?? "?"}": grant it permissions there, or check RABBITMQ_URL's vhost`;
      case "certificate-untrusted":
        return "RabbitMQ's TLS certificate is not trusted: check RABBITMQ_SSL_CA_FILE (the CA bundle that signed the server's certificate)";
      case "certificate-name":
        return "RabbitMQ's TLS certificate does not name the host of RABBITMQ_URL: use a host name the certificate holds";
      case "certificate-expired":
        return "RabbitMQ's TLS certificate is expired or not valid yet: renew the server's certificate";
      case "tls-file":
        return "a RabbitMQ TLS file cannot be read: check RABBITMQ_SSL_CA_FILE, RABBITMQ_SSL_CERT_FILE and RABBITMQ_SSL_KEY_FILE";
      case "client-certificate-refused":
        return "RabbitMQ's TLS server refused the client certificate: check RABBITMQ_SSL_CERT_FILE and RABBITMQ_SSL_KEY_FILE (a certificate its CA signed)";
      case "tls-handshake":
        return "the TLS handshake with RabbitMQ failed: check that RABBITMQ_URL's port speaks TLS, and RABBITMQ_SSL_CERT_FILE / RABBITMQ_SSL_KEY_FILE if the server wants a client certificate";
      default:
        return undefined;
    }
  };
}
