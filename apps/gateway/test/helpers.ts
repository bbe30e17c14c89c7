import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { KronosApp } from "@kronos/app-kit";
import { type ServerProcess, startServerProcess, waitForHttp } from "@kronos/app-kit/testing";
import { testEndpoints } from "@kronos/testkit";
import { SignJWT } from "jose";
import { Type } from "typebox";
import { buildApp, loadConfig, requireRight } from "../src/app.js";

/** The HS256 secret the test gateways accept. */
export const SECRET = "test-secret-0123456789abcdef0123456789";
/** The RS256 key pair whose public half the test gateways accept. */
export const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
export const publicPem = rsa.publicKey.export({ type: "spki", format: "pem" }).toString();

/** A principals file of its own, in a fresh temporary folder. */
export function tempPrincipalsFile(): string {
  return join(mkdtempSync(join(tmpdir(), "gw-auth-")), "principals.json");
}

const SERVER = fileURLToPath(new URL("../dist/server.js", import.meta.url));
const PRINCIPALS_CLI = fileURLToPath(new URL("../bin/kronos-gateway-principals.js", import.meta.url));

/**
 * Adds principal `id` with `acl` (comma-separated rights) to `principalsFile` the way operators do, with the built
 * principals CLI, and returns its new API key.
 */
export function addPrincipal(principalsFile: string, id: string, acl: string): string {
  const added = execFileSync(process.execPath, [PRINCIPALS_CLI, "add", id, "--acl", acl, "--json"], {
    env: { ...process.env, GATEWAY_PRINCIPALS_FILE: principalsFile },
    encoding: "utf8",
  });
  return (JSON.parse(added) as { key: string }).key;
}

/**
 * Starts the built gateway (`dist/server.js`) as a process on 127.0.0.1:`port`, against the test stack, with the API
 * keys of `principalsFile` and warnings-only logs; resolves once `/readyz` answers (within 90 s).
 */
export async function startGatewayProcess(port: number, principalsFile: string): Promise<ServerProcess> {
  const endpoints = testEndpoints();
  const server = startServerProcess(SERVER, {
    KAFKA_BROKERS: endpoints.kafkaBrokers,
    SCHEMA_REGISTRY_URL: endpoints.registryUrl,
    RABBITMQ_URL: endpoints.rabbitmqUrl,
    GATEWAY_HOST: "127.0.0.1",
    GATEWAY_PORT: String(port),
    GATEWAY_PRINCIPALS_FILE: principalsFile,
    LOG_LEVEL: "warn",
  });
  await waitForHttp(`http://127.0.0.1:${port}/readyz`, 90_000);
  return server;
}

/** A compact HS256 JWT for `sub` with `acl`, valid for a minute unless `exp` says otherwise. */
export async function hsToken(sub: string, acl: readonly string[], exp: number | string = "1m"): Promise<string> {
  return new SignJWT({ acl: [...acl] })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(SECRET));
}

/**
 * Builds the real gateway (JWT HS256 + RS256, API keys in `principalsFile`) and adds test-only routes standing in
 * for publish and queue administration, protected the way those routes will be:
 * `POST /test/publish {topic}` → `app.authorize(request, "produce", topic)`;
 * `GET /test/consume/:queue` → `requireRight("consume", ...)`; `DELETE /test/queues/:queue` → `requireRight("admin")`.
 */
export async function testGateway(principalsFile: string, env: Record<string, string> = {}): Promise<KronosApp> {
  const endpoints = testEndpoints();
  const app = await buildApp(
    loadConfig({
      KAFKA_BROKERS: endpoints.kafkaBrokers,
      SCHEMA_REGISTRY_URL: endpoints.registryUrl,
      RABBITMQ_URL: endpoints.rabbitmqUrl,
      LOG_LEVEL: "silent",
      GATEWAY_JWT_SECRET: SECRET,
      GATEWAY_JWT_PUBLIC_KEY: publicPem,
      GATEWAY_PRINCIPALS_FILE: principalsFile,
      ...env,
    }),
  );
  const body = Type.Object({ topic: Type.String() });
  app.post("/test/publish", { schema: { body } }, async (request) => {
    const principal = app.authorize(request, "produce", request.body.topic);
    return { ok: true, by: principal.id };
  });
  app.get<{ Params: { queue: string } }>(
    "/test/consume/:queue",
    { preHandler: requireRight("consume", (request) => (request.params as { queue: string }).queue) },
    async () => ({ ok: true }),
  );
  app.delete("/test/queues/:queue", { preHandler: requireRight("admin") }, async () => ({ ok: true }));
  return app;
}
