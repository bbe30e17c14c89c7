import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { amqpSocketOptions, classifyAmqpConnectError } from "./amqp-security.js";
import { redactAmqpUrl } from "./connection-manager.js";

describe("redactAmqpUrl", () => {
  it("hides the password of amqps URLs as of amqp ones", () => {
    expect(redactAmqpUrl("amqps://kronos-gateway:s3cret@localhost:5671/vh")).toBe(
      "amqps://kronos-gateway:***@localhost:5671/vh",
    );
    expect(redactAmqpUrl("amqp://guest:guest@127.0.0.1:5672")).toBe("amqp://guest:***@127.0.0.1:5672");
  });
});

const coded = (message: string, code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { code, ...extra });

describe("classifyAmqpConnectError", () => {
  it.each([
    [coded("unable to verify the first certificate", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"), "certificate-untrusted"],
    [coded("self-signed certificate in certificate chain", "SELF_SIGNED_CERT_IN_CHAIN"), "certificate-untrusted"],
    [coded("Hostname/IP does not match certificate's altnames", "ERR_TLS_CERT_ALTNAME_INVALID"), "certificate-name"],
    [coded("certificate has expired", "CERT_HAS_EXPIRED"), "certificate-expired"],
    [coded("ENOENT: no such file or directory, open '/x/ca.crt'", "ENOENT", { syscall: "open" }), "tls-file"],
    [coded("x509 certificate routines::key values mismatch", "ERR_OSSL_X509_KEY_VALUES_MISMATCH"), "tls-file"],
    [coded("wrong version number", "ERR_SSL_WRONG_VERSION_NUMBER"), "tls-handshake"],
    [coded("tlsv1 alert unknown ca", "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA"), "client-certificate-refused"],
    [coded("connect ECONNREFUSED 127.0.0.1:5671", "ECONNREFUSED", { syscall: "connect" }), "network"],
    [
      new Error(
        'Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile."',
      ),
      "login-refused",
    ],
    [
      new Error(
        "Handshake terminated by server: 530 (NOT-ALLOWED) with message \"NOT_ALLOWED - access to vhost 'kronos' refused for user 'u'\"",
      ),
      "vhost-refused",
    ],
    [new Error("Client network socket disconnected before secure TLS connection was established"), "tls-handshake"],
    [new Error("something else"), "other"],
  ])("%s is %s", (error, kind) => {
    expect(classifyAmqpConnectError(error).kind).toBe(kind);
  });

  it("keeps the vhost a refusal names", () => {
    const error = new Error("NOT_ALLOWED - access to vhost 'kronos' refused for user 'u'");
    expect(classifyAmqpConnectError(error)).toMatchObject({ kind: "vhost-refused", vhost: "kronos" });
  });
});

describe("amqpSocketOptions", () => {
  const dir = mkdtempSync(join(tmpdir(), "kronos-amqp-tls-"));
  const ca = join(dir, "ca.crt");
  writeFileSync(ca, "PEM");

  it("reads the TLS files now and puts the login in SASL PLAIN credentials", () => {
    const options = amqpSocketOptions({ noDelay: true }, { caFile: ca }, { username: "u", password: "p" });
    expect(options.noDelay).toBe(true);
    expect(options.ca).toEqual([Buffer.from("PEM")]);
    expect(options.cert).toBeUndefined();
    const credentials = options.credentials as { mechanism: string; response(): Buffer };
    expect(credentials.mechanism).toBe("PLAIN");
    expect(credentials.response().toString()).toBe("\0u\0p");
  });

  it("throws the file system's error for a missing file", () => {
    expect(() => amqpSocketOptions({}, { caFile: join(dir, "nope") }, undefined)).toThrow(/ENOENT/);
  });
});
