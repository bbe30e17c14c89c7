import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ensureLocalTls } from "./tls.js";

const stateDir = mkdtempSync(join(tmpdir(), "kronos-tls-"));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

function verify(ca: string, cert: string): { ok: boolean; output: string } {
  const result = spawnSync("openssl", ["verify", "-CAfile", ca, cert], { encoding: "utf8" });
  return { ok: result.status === 0, output: result.stdout + result.stderr };
}

describe("ensureLocalTls", () => {
  const tls = ensureLocalTls({ stateDir });

  it("makes a CA that signs the server and client certificates, and an untrusted CA that does not", () => {
    expect(verify(tls.caFile, tls.serverCertFile).ok).toBe(true);
    expect(verify(tls.caFile, tls.clientCertFile).ok).toBe(true);
    expect(verify(tls.untrustedCaFile, tls.serverCertFile).ok).toBe(false);
  });

  it("names localhost and 127.0.0.1 in the server certificate", () => {
    const text = spawnSync("openssl", ["x509", "-in", tls.serverCertFile, "-noout", "-text"], { encoding: "utf8" });
    expect(text.stdout).toContain("DNS:localhost");
    expect(text.stdout).toContain("IP Address:127.0.0.1");
  });

  it("puts the server key and certificate in one PEM file", () => {
    const pem = readFileSync(tls.serverPemFile, "utf8");
    expect(pem).toContain("BEGIN PRIVATE KEY");
    expect(pem).toContain("BEGIN CERTIFICATE");
  });

  it("keeps what it made: a second call changes nothing", () => {
    const before = statSync(tls.caFile).mtimeMs;
    const again = ensureLocalTls({ stateDir });
    expect(again).toEqual(tls);
    expect(statSync(again.caFile).mtimeMs).toBe(before);
  });
});
