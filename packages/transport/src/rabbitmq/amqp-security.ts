import { readFileSync } from "node:fs";
import { credentials as amqpCredentials } from "amqplib";
import { describeError } from "../errors.js";

/**
 * TLS of an `amqps:` connection: PEM files, read again at every connection attempt (a renewed certificate is
 * picked up at the next reconnection). The server's certificate is always verified and must name the URL's host
 * (Node's checks; this module has no switch to turn them off).
 */
export interface AmqpTlsOptions {
  /** CA bundle the server's certificate must chain to. Default: Node's bundled public CAs. */
  readonly caFile?: string;
  /** Client certificate for mutual TLS (with {@link keyFile}). Default: none. */
  readonly certFile?: string;
  /** Private key of {@link certFile}, unencrypted PEM. */
  readonly keyFile?: string;
}

/** A login given apart from the URL, so a password needn't sit in a URL (which ends up in logs and process lists). */
export interface AmqpCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * amqplib's socket options for one connection attempt: `base`, plus the TLS files of `tls` read now, plus SASL
 * PLAIN `credentials` (which then win over the URL's userinfo). amqplib sets the TLS server name from the URL's host
 * itself. Throws the file system's error when a TLS file cannot be read.
 */
export function amqpSocketOptions(
  base: Record<string, unknown>,
  tls: AmqpTlsOptions | undefined,
  credentials: AmqpCredentials | undefined,
): Record<string, unknown> {
  const options: Record<string, unknown> = { ...base };
  if (tls?.caFile !== undefined) options.ca = [readFileSync(tls.caFile)];
  if (tls?.certFile !== undefined) options.cert = readFileSync(tls.certFile);
  if (tls?.keyFile !== undefined) options.key = readFileSync(tls.keyFile);
  if (credentials) options.credentials = amqpCredentials.plain(credentials.username, credentials.password);
  return options;
}

/** Why a connection attempt failed, in the terms a user can act on. */
export type AmqpConnectFailureKind =
  /** The broker refused the user name or password (AMQP 403 ACCESS_REFUSED during the handshake). */
  | "login-refused"
  /** The login worked but the user has no access to the URL's virtual host (530 NOT_ALLOWED). */
  | "vhost-refused"
  /** The server's certificate does not chain to a trusted CA. */
  | "certificate-untrusted"
  /** The server's certificate does not name the host that was dialled. */
  | "certificate-name"
  /** The server's certificate is expired or not yet valid. */
  | "certificate-expired"
  /** A TLS file (CA, certificate, key) could not be read or parsed, or the key does not match the certificate. */
  | "tls-file"
  /** The server refused the client certificate (unknown CA, bad certificate) or wanted one and got none. */
  | "client-certificate-refused"
  /** The TLS handshake failed otherwise (no TLS on that port, client certificate refused, protocol mismatch). */
  | "tls-handshake"
  /** Nothing usable answered (refused, reset, timed out, DNS). */
  | "network"
  /** Anything else. */
  | "other";

/** A classified connection failure: what kind, and the underlying text. */
export interface AmqpConnectFailure {
  readonly kind: AmqpConnectFailureKind;
  /** The error's own message (never holds the password: amqplib's and Node's errors do not quote it). */
  readonly detail: string;
  /** The virtual host named by a `vhost-refused` failure. */
  readonly vhost?: string;
}

const UNTRUSTED = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
]);
const EXPIRED = new Set(["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID"]);
const NETWORK = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN", "EPIPE"]);

/**
 * Classifies an error of `amqplib.connect` (or of reading the TLS files) into an {@link AmqpConnectFailureKind},
 * from Node's TLS error codes and the AMQP reply in amqplib's handshake messages.
 */
export function classifyAmqpConnectError(error: unknown): AmqpConnectFailure {
  const detail = describeError(error);
  const code = (error as { code?: unknown } | null)?.code;
  const syscall = (error as { syscall?: unknown } | null)?.syscall;
  if (typeof code === "string") {
    if (UNTRUSTED.has(code)) return { kind: "certificate-untrusted", detail };
    if (EXPIRED.has(code)) return { kind: "certificate-expired", detail };
    if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return { kind: "certificate-name", detail };
    if (
      syscall === "open" ||
      code === "ENOENT" ||
      code === "EACCES" ||
      code === "EISDIR" ||
      code.startsWith("ERR_OSSL_")
    ) {
      return { kind: "tls-file", detail };
    }
    if (
      /^ERR_SSL_(TLSV1_ALERT_UNKNOWN_CA|SSLV3_ALERT_BAD_CERTIFICATE|TLSV13_ALERT_CERTIFICATE_REQUIRED|SSLV3_ALERT_HANDSHAKE_FAILURE|TLSV1_ALERT_ACCESS_DENIED)$/.test(
        code,
      )
    ) {
      return { kind: "client-certificate-refused", detail };
    }
    if (code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_")) return { kind: "tls-handshake", detail };
    if (NETWORK.has(code)) return { kind: "network", detail };
  }
  if (/ACCESS.REFUSED/.test(detail) && /login was refused|Login was refused/i.test(detail)) {
    return { kind: "login-refused", detail };
  }
  const vhost = /access to vhost '([^']*)' refused/.exec(detail)?.[1];
  if (vhost !== undefined) return { kind: "vhost-refused", detail, vhost };
  if (
    /Client network socket disconnected before secure TLS connection was established|wrong version number/i.test(detail)
  ) {
    return { kind: "tls-handshake", detail };
  }
  if (/timeout|timed out|Socket closed abruptly/i.test(detail)) return { kind: "network", detail };
  return { kind: "other", detail };
}
