import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { addPrincipal } from "@kronos/app-kit";
import { freePort, startServerProcess } from "@kronos/app-kit/testing";
import { testEndpoints } from "@kronos/testkit";
import { describe, expect, it } from "vitest";
import { tempPrincipalsFile } from "./helpers.js";

const serverPath = fileURLToPath(new URL("../dist/server.js", import.meta.url));

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl for this test. */
function selfSigned(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), "gw-tls-"));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    { stdio: "ignore" },
  );
  return { cert, key };
}

/** GET over HTTPS, trusting only `ca`. */
function httpsGet(url: string, ca: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = request(url, { ca, headers, timeout: 3000 }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString("utf8");
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}

describe("gateway over HTTPS (built server)", () => {
  it("serves HTTPS with GATEWAY_TLS_CERT and GATEWAY_TLS_KEY, with HSTS, and refuses plain HTTP", async () => {
    const { cert, key } = selfSigned();
    const ca = readFileSync(cert, "utf8");
    const file = tempPrincipalsFile();
    const apiKey = addPrincipal(file, { id: "tls-client", acl: ["admin"] }).key;
    const port = await freePort();
    const endpoints = testEndpoints();
    const server = startServerProcess(serverPath, {
      KAFKA_BROKERS: endpoints.kafkaBrokers,
      SCHEMA_REGISTRY_URL: endpoints.registryUrl,
      RABBITMQ_URL: endpoints.rabbitmqUrl,
      LOG_LEVEL: "warn",
      GATEWAY_HOST: "127.0.0.1",
      GATEWAY_PORT: String(port),
      GATEWAY_TLS_CERT: cert,
      GATEWAY_TLS_KEY: key,
      GATEWAY_PRINCIPALS_FILE: file,
    });
    try {
      const base = `https://127.0.0.1:${port}`;
      const deadline = Date.now() + 20_000;
      let health: Awaited<ReturnType<typeof httpsGet>> | undefined;
      while (health?.status !== 200) {
        if (Date.now() > deadline) throw new Error(`no HTTPS answer; stderr: ${server.stderr()}`);
        health = await httpsGet(`${base}/healthz`, ca).catch(() => undefined);
        if (health?.status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(health.headers["strict-transport-security"]).toBe("max-age=31536000; includeSubDomains");

      const whoami = await httpsGet(`${base}/whoami`, ca, { "x-api-key": apiKey });
      expect(whoami.status).toBe(200);
      expect(JSON.parse(whoami.body)).toEqual({
        id: "tls-client",
        kind: "api-key",
        identity: "key:tls-client",
        acl: ["admin"],
      });
      expect((await httpsGet(`${base}/whoami`, ca)).status).toBe(401);

      // The certificate is checked: without trusting it, the connection fails.
      await expect(httpsGet(`${base}/healthz`, "")).rejects.toThrow();
      // Plain HTTP on the HTTPS port gets no HTTP answer.
      const plain = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) })
        .then((r) => r.status)
        .catch(() => "refused");
      expect(plain).not.toBe(200);

      server.kill("SIGTERM");
      expect(await server.exited).toEqual({ code: 0, signal: null });
    } finally {
      server.kill("SIGKILL");
    }
  });

  it.each([
    [
      "GATEWAY_TLS_CERT",
      (tls: { cert: string; key: string }) => ({ GATEWAY_TLS_CERT: "/no/such/cert.pem", GATEWAY_TLS_KEY: tls.key }),
    ],
    [
      "GATEWAY_TLS_KEY",
      (tls: { cert: string; key: string }) => ({ GATEWAY_TLS_CERT: tls.cert, GATEWAY_TLS_KEY: "/no/such/key.pem" }),
    ],
  ])("exits 1 naming %s when its file is missing, without a stack trace", async (name, env) => {
    const server = startServerProcess(serverPath, { GATEWAY_PORT: "0", ...env(selfSigned()) });
    try {
      expect((await server.exited).code).toBe(1);
    } finally {
      server.kill("SIGKILL");
    }
    expect(server.stderr()).toContain(`${name}="/no/such/`);
    expect(server.stderr()).toContain("cannot be read (ENOENT)");
    expect(server.stderr()).not.toMatch(/^\s+at /m);
  });
});
