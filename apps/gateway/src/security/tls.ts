import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Env } from "@kronos/app-kit";

/** The PEM certificate chain and private key the gateway serves HTTPS with. */
export interface TlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  /** PEM contents. Kept out of `JSON.stringify` so the key never reaches a log line by accident. */
  readonly cert: string;
  readonly key: string;
}

function readPem(name: string, path: string, problems: string[]): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    problems.push(`${name}="${path}" cannot be read (${(error as NodeJS.ErrnoException).code ?? "unreadable"})`);
    return undefined;
  }
}

/**
 * Reads `GATEWAY_TLS_CERT` and `GATEWAY_TLS_KEY`: paths of PEM files, both or neither. Checks that the certificate
 * parses, the key parses (unencrypted), and the key belongs to the certificate. Returns `undefined` (plain HTTP)
 * when neither is set; pushes one sentence naming the variable onto `problems` per problem.
 */
export function readTlsConfig(env: Env, problems: string[]): TlsConfig | undefined {
  const certFile = env.GATEWAY_TLS_CERT?.trim() || undefined;
  const keyFile = env.GATEWAY_TLS_KEY?.trim() || undefined;
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    const [set, missing] =
      certFile === undefined ? ["GATEWAY_TLS_KEY", "GATEWAY_TLS_CERT"] : ["GATEWAY_TLS_CERT", "GATEWAY_TLS_KEY"];
    problems.push(`${missing} is not set but ${set} is: HTTPS needs both (or neither, for plain HTTP)`);
    return undefined;
  }
  const cert = readPem("GATEWAY_TLS_CERT", certFile, problems);
  const key = readPem("GATEWAY_TLS_KEY", keyFile, problems);
  if (cert === undefined || key === undefined) return undefined;

  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    problems.push(`GATEWAY_TLS_CERT="${certFile}" does not hold a PEM certificate`);
    return undefined;
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    problems.push(`GATEWAY_TLS_KEY="${keyFile}" does not hold an unencrypted PEM private key`);
    return undefined;
  }
  if (!x509.checkPrivateKey(privateKey)) {
    problems.push(`GATEWAY_TLS_KEY="${keyFile}" is not the private key of the certificate in GATEWAY_TLS_CERT`);
    return undefined;
  }
  const tls = { certFile, keyFile, cert, key };
  Object.defineProperty(tls, "cert", { enumerable: false });
  Object.defineProperty(tls, "key", { enumerable: false });
  return tls;
}
