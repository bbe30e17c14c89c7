import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StackError } from "./errors.js";
import type { StackSettings } from "./settings.js";

/**
 * The local stack's TLS material, PEM files under `<stateDir>/tls`, made once with openssl and kept: a CA that
 * every secured listener of the stack (Kafka's SASL_SSL listener, RabbitMQ's amqps terminator, the registry's
 * HTTPS front) is signed by, one server certificate for `localhost` and `127.0.0.1`, and one client certificate
 * for mutual TLS. Clients trust {@link LocalTls.caFile}; nothing here is meant for anything but this machine.
 */
export interface LocalTls {
  /** The folder holding every file below. */
  readonly dir: string;
  /** The CA certificate clients trust (`KAFKA_SSL_CA_FILE`, `RABBITMQ_SSL_CA_FILE`, ...). */
  readonly caFile: string;
  /** The CA's private key (signs the certificates below; kept so a missing certificate can be issued again). */
  readonly caKeyFile: string;
  /** The server certificate (subject alternative names `localhost`, `127.0.0.1`, `::1`), signed by the CA. */
  readonly serverCertFile: string;
  /** Its private key, unencrypted PKCS#8 PEM. */
  readonly serverKeyFile: string;
  /** Key then certificate in one PEM file (what Kafka's PEM keystore and stunnel take). */
  readonly serverPemFile: string;
  /** A client certificate (CN `kronos-client`) for mutual TLS, signed by the CA. */
  readonly clientCertFile: string;
  /** Its private key, unencrypted PKCS#8 PEM. */
  readonly clientKeyFile: string;
  /** A second CA, trusted by nothing, and a server certificate it signed: for "untrusted certificate" tests. */
  readonly untrustedCaFile: string;
}

/** Certificates last ten years: a development stack should never meet an expiry. */
const DAYS = "3650";

/** The paths of the local TLS material (whether or not it exists yet). */
export function localTlsPaths(settings: Pick<StackSettings, "stateDir">): LocalTls {
  const dir = join(settings.stateDir, "tls");
  return {
    dir,
    caFile: join(dir, "ca.crt"),
    caKeyFile: join(dir, "ca.key"),
    serverCertFile: join(dir, "server.crt"),
    serverKeyFile: join(dir, "server.key"),
    serverPemFile: join(dir, "server.pem"),
    clientCertFile: join(dir, "client.crt"),
    clientKeyFile: join(dir, "client.key"),
    untrustedCaFile: join(dir, "untrusted-ca.crt"),
  };
}

function openssl(args: string[], cwd: string): void {
  const result = spawnSync("openssl", args, { cwd, encoding: "utf8" });
  if (result.error) {
    throw new StackError(
      `cannot run openssl (${result.error.message}): install it (Debian: sudo apt-get install openssl) and run up again.`,
    );
  }
  if (result.status !== 0) {
    throw new StackError(`openssl ${args[0]} failed while making the stack's TLS material: ${result.stderr.trim()}`);
  }
}

function newKey(cwd: string, file: string): void {
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file], cwd);
}

function selfSignedCa(cwd: string, key: string, cert: string, name: string): void {
  newKey(cwd, key);
  openssl(
    [
      "req",
      "-x509",
      "-new",
      "-key",
      key,
      "-days",
      DAYS,
      "-subj",
      `/CN=${name}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
      "-out",
      cert,
    ],
    cwd,
  );
}

function issue(
  cwd: string,
  ca: { cert: string; key: string },
  out: { cert: string; key: string },
  cn: string,
  extensions: string,
): void {
  newKey(cwd, out.key);
  const csr = `${out.cert}.csr`;
  const ext = `${out.cert}.ext`;
  openssl(["req", "-new", "-key", out.key, "-subj", `/CN=${cn}`, "-out", csr], cwd);
  writeFileSync(join(cwd, ext), `${extensions}\n`);
  openssl(
    [
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      ca.cert,
      "-CAkey",
      ca.key,
      "-CAcreateserial",
      "-days",
      DAYS,
      "-extfile",
      ext,
      "-out",
      out.cert,
    ],
    cwd,
  );
  rmSync(join(cwd, csr), { force: true });
  rmSync(join(cwd, ext), { force: true });
}

const SERVER_EXTENSIONS = [
  "basicConstraints=CA:FALSE",
  "keyUsage=critical,digitalSignature,keyEncipherment",
  "extendedKeyUsage=serverAuth",
  "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
].join("\n");

const CLIENT_EXTENSIONS = [
  "basicConstraints=CA:FALSE",
  "keyUsage=critical,digitalSignature,keyEncipherment",
  "extendedKeyUsage=clientAuth",
].join("\n");

/**
 * Makes the local TLS material once (see {@link LocalTls}) and returns its paths; when it exists, only returns them.
 * Made in a temporary folder and renamed into place, so an interrupted run leaves nothing half-made.
 * @throws StackError when openssl is missing or fails (the message says what to install).
 */
export function ensureLocalTls(settings: Pick<StackSettings, "stateDir">): LocalTls {
  const paths = localTlsPaths(settings);
  if (existsSync(paths.untrustedCaFile)) return paths;
  const work = `${paths.dir}.new-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    selfSignedCa(work, "ca.key", "ca.crt", "Kronos local stack CA");
    issue(
      work,
      { cert: "ca.crt", key: "ca.key" },
      { cert: "server.crt", key: "server.key" },
      "localhost",
      SERVER_EXTENSIONS,
    );
    issue(
      work,
      { cert: "ca.crt", key: "ca.key" },
      { cert: "client.crt", key: "client.key" },
      "kronos-client",
      CLIENT_EXTENSIONS,
    );
    writeFileSync(
      join(work, "server.pem"),
      readFileSync(join(work, "server.key"), "utf8") + readFileSync(join(work, "server.crt"), "utf8"),
    );
    selfSignedCa(work, "untrusted-ca.key", "untrusted-ca.crt", "Untrusted CA (tests only)");
    rmSync(paths.dir, { recursive: true, force: true });
    renameSync(work, paths.dir);
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
  return paths;
}
