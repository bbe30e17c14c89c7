import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, type ServerProcess, startServerProcess, waitForHttp } from "@kronos/app-kit/testing";
import { type AuthProxy, startAuthProxy, testEndpoints } from "@kronos/testkit";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addPrincipal, tempPrincipalsFile } from "./helpers.js";
import { criticalAlert } from "./publish-helpers.js";

// No secret in the logs, the answers or the metrics: the built gateway, at debug level, given a registry password,
// a JWT secret (from a _FILE) and API keys, exercised with good and bad credentials; then everything it wrote and
// served is searched for each secret.
const SERVER = fileURLToPath(new URL("../dist/server.js", import.meta.url));
const REGISTRY_PASSWORD = "leak-check-registry-pw-7Hq";
const WRONG_REGISTRY_PASSWORD = "leak-check-wrong-registry-pw-3Rt";
const JWT_SECRET = "leak-check-jwt-secret-0123456789abcdefXYZ";
const WRONG_JWT_SECRET = "leak-check-wrong-jwt-secret-0123456789abcdef";

let proxy: AuthProxy;
const processes: ServerProcess[] = [];
afterAll(async () => {
  for (const server of processes) server.kill("SIGTERM");
  await Promise.all(processes.map((server) => server.exited));
  await proxy?.close();
});
beforeAll(async () => {
  proxy = await startAuthProxy({ basic: { username: "gateway", password: REGISTRY_PASSWORD } });
});

async function startGateway(registryPassword: string, principalsFile: string) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "gw-secrets-"));
  writeFileSync(join(dir, "jwt-secret"), `${JWT_SECRET}\n`);
  const endpoints = testEndpoints();
  const server = startServerProcess(SERVER, {
    KAFKA_BROKERS: endpoints.kafkaBrokers,
    RABBITMQ_URL: endpoints.rabbitmqUrl,
    SCHEMA_REGISTRY_URL: proxy.url,
    SCHEMA_REGISTRY_CA_FILE: proxy.caFile,
    SCHEMA_REGISTRY_USERNAME: "gateway",
    SCHEMA_REGISTRY_PASSWORD: registryPassword,
    GATEWAY_JWT_SECRET_FILE: join(dir, "jwt-secret"),
    GATEWAY_PRINCIPALS_FILE: principalsFile,
    GATEWAY_HOST: "127.0.0.1",
    GATEWAY_PORT: String(port),
    LOG_LEVEL: "debug",
  });
  processes.push(server);
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, 90_000);
  return { server, base: `http://127.0.0.1:${port}` };
}

const jwt = (secret: string) =>
  new SignJWT({ acl: ["produce:kronos.gaia.*"] })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("leak-check")
    .setExpirationTime("1m")
    .sign(new TextEncoder().encode(secret));

describe("secrets stay out of logs, answers and metrics", () => {
  it("a gateway exercised with good and bad credentials never writes or serves a secret", async () => {
    const principalsFile = tempPrincipalsFile();
    const apiKey = addPrincipal(principalsFile, "leak-check", "produce:kronos.gaia.*");
    const good = await startGateway(REGISTRY_PASSWORD, principalsFile);
    const bad = await startGateway(WRONG_REGISTRY_PASSWORD, principalsFile);
    const goodToken = await jwt(JWT_SECRET);
    const badToken = await jwt(WRONG_JWT_SECRET);
    const served: string[] = [];
    const call = async (base: string, path: string, headers: Record<string, string> = {}, body?: unknown) => {
      const response = await fetch(`${base}${path}`, {
        method: body === undefined ? "GET" : "POST",
        headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      served.push(await response.text());
      return response.status;
    };
    const publish = { topic: "kronos.gaia.alerts", payload: criticalAlert() };

    await waitForHttp(`${good.base}/readyz`, 30_000);
    expect(await call(good.base, "/publish", { authorization: `Bearer ${goodToken}` }, publish)).toBe(202);
    expect(await call(good.base, "/publish", { "x-api-key": apiKey }, publish)).toBe(202);
    expect(await call(good.base, "/publish", { authorization: `Bearer ${badToken}` }, publish)).toBe(401);
    expect(await call(good.base, "/publish", { "x-api-key": `${apiKey}x` }, publish)).toBe(401);
    expect(await call(bad.base, "/readyz")).toBe(503);
    expect(await call(bad.base, "/publish", { authorization: `Bearer ${goodToken}` }, publish)).toBe(500);
    for (const { base } of [good, bad]) await call(base, "/metrics");

    const basic = (password: string) => Buffer.from(`gateway:${password}`).toString("base64");
    const secrets = [
      REGISTRY_PASSWORD,
      WRONG_REGISTRY_PASSWORD,
      basic(REGISTRY_PASSWORD),
      basic(WRONG_REGISTRY_PASSWORD),
      JWT_SECRET,
      WRONG_JWT_SECRET,
      apiKey,
      goodToken,
      badToken,
    ];
    const written = [good, bad].flatMap(({ server }) => [server.stdout(), server.stderr()]).join("\n");
    // The logs are there to be searched: debug lines and the refused registry's error were written.
    expect(written).toContain("REGISTRY_UNAUTHORIZED");
    for (const secret of secrets) {
      expect(written.includes(secret), `a secret in the logs: ${secret.slice(0, 12)}…`).toBe(false);
      expect(served.join("\n").includes(secret), `a secret in an answer: ${secret.slice(0, 12)}…`).toBe(false);
    }
  });
});
