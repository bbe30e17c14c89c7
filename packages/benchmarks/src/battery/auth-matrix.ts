// Scenario 9: every protected route × every kind of credential. Invalid credentials (none, malformed, expired, wrong
// signature, `alg: none`, HS/RS confusion, a revoked key) must get 401, a valid principal without the route's right
// 403, and one with the right anything but 401/403; nobody may write to a broker (bodies are harmless: `{}`).
import { generateKeyPairSync } from "node:crypto";
import { SignJWT } from "jose";
import type { BenchHarness } from "../harness.js";
import type { BatteryContext } from "./context.js";
import type { ScenarioResult } from "./report.js";
import { brokerWrites } from "./writes.js";

/** The JWT keys the scenario's own gateway is started with (HS256 secret and RS256 key pair). */
export interface MatrixKeys {
  readonly secret: string;
  readonly publicPem: string;
  readonly privatePem: string;
}

export function matrixKeys(): MatrixKeys {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    secret: `battery-${crypto.randomUUID()}-${crypto.randomUUID()}`,
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

/** A protected route and the right it needs (`undefined`: any principal). */
interface Route {
  readonly method: string;
  readonly path: string;
  readonly right: string | undefined;
  readonly body?: string;
}

const TOPIC = "kronos.log.entries";
const GATEWAY_ROUTES: readonly Route[] = [
  { method: "GET", path: "/", right: undefined },
  { method: "GET", path: "/whoami", right: undefined },
  { method: "GET", path: "/queues", right: "admin" },
  { method: "POST", path: "/queues/create", right: "admin", body: "{}" },
  { method: "DELETE", path: "/queues/rabbitmq:kronos.battery.no-such-queue", right: "admin" },
  { method: "POST", path: "/publish", right: `produce:${TOPIC}`, body: JSON.stringify({ topic: TOPIC, payload: {} }) },
  {
    method: "POST",
    path: "/publish/batch",
    right: `produce:${TOPIC}`,
    body: JSON.stringify({ messages: [{ topic: TOPIC, payload: {} }] }),
  },
  { method: "GET", path: "/publish/destinations", right: undefined },
  {
    method: "POST",
    path: "/request",
    right: "produce:kronos.router",
    body: JSON.stringify({ topic: "kronos.router", payload: {} }),
  },
  // A topic that does not exist: a principal with the right gets past auth to a 404, and no stream is opened (a
  // new consumer group's first join can take longer than a request should wait).
  { method: "GET", path: "/subscribe/kronos.battery-no-such-topic", right: "consume:kronos.battery-no-such-topic" },
  { method: "POST", path: "/ack/battery-no-such-handle", right: undefined },
  { method: "POST", path: "/retry/battery-no-such-handle", right: undefined, body: "{}" },
  { method: "POST", path: "/reject/battery-no-such-handle", right: undefined, body: "{}" },
];

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** The credentials of the matrix, each with the answer it must get (`ok`: anything but 401/403). */
async function credentials(keys: MatrixKeys, harness: BenchHarness, principalsFile: string, right: string | undefined) {
  const hs = new TextEncoder().encode(keys.secret);
  const now = Math.floor(Date.now() / 1000);
  const token = (acl: string[]) => new SignJWT({ acl }).setSubject("battery-matrix").setIssuedAt(now);
  const rightful = right === undefined ? ["dlq:read"] : [right];
  // A key of the gateway's own principals file, revoked: refused from the next request on.
  const revokedId = `battery-revoked-${crypto.randomUUID().slice(0, 8)}`;
  const revokedKey = harness.addPrincipal(principalsFile, revokedId, right ?? "dlq:read");
  harness.revokePrincipal(principalsFile, revokedId);
  return {
    cases: [
      { name: "none", headers: {}, expect: 401 },
      { name: "malformed bearer", headers: { authorization: "Bearer not.a.jwt" }, expect: 401 },
      { name: "malformed api key", headers: { "x-api-key": "kgw_" }, expect: 401 },
      {
        name: "expired",
        headers: {
          authorization: `Bearer ${await token(rightful)
            .setExpirationTime(now - 60)
            .setProtectedHeader({ alg: "HS256" })
            .sign(hs)}`,
        },
        expect: 401,
      },
      {
        name: "wrong signature",
        headers: {
          authorization: `Bearer ${await token(rightful)
            .setExpirationTime("5m")
            .setProtectedHeader({ alg: "HS256" })
            .sign(new TextEncoder().encode(`${keys.secret}x`))}`,
        },
        expect: 401,
      },
      {
        name: "alg none",
        headers: {
          authorization: `Bearer ${base64url({ alg: "none", typ: "JWT" })}.${base64url({ sub: "battery-matrix", acl: ["admin", "produce:*", "consume:*"], exp: now + 300 })}.`,
        },
        expect: 401,
      },
      {
        // HS256 signed with the RS256 public key as the secret: the classic algorithm confusion.
        name: "HS/RS confusion",
        headers: {
          authorization: `Bearer ${await token(rightful).setExpirationTime("5m").setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(keys.publicPem))}`,
        },
        expect: 401,
      },
      { name: "revoked key", headers: { "x-api-key": revokedKey }, expect: 401 },
      ...(right === undefined
        ? []
        : [
            {
              name: "valid without the right",
              headers: {
                authorization: `Bearer ${await token(["dlq:read"]).setExpirationTime("5m").setProtectedHeader({ alg: "HS256" }).sign(hs)}`,
              },
              expect: 403,
            },
          ]),
      {
        name: "valid with the right (RS256)",
        headers: {
          authorization: `Bearer ${await token(rightful)
            .setExpirationTime("5m")
            .setProtectedHeader({ alg: "RS256" })
            .sign(await importPrivate(keys.privatePem))}`,
        },
        expect: "ok" as const,
      },
    ],
  };
}

async function importPrivate(pem: string) {
  const { importPKCS8 } = await import("jose");
  return importPKCS8(pem, "RS256");
}

/** Runs the matrix against the gateway at `origin` (started with `keys`). */
export async function authMatrix(context: BatteryContext): Promise<ScenarioResult> {
  const keys = context.matrixKeys;
  const origin = context.gateway.origin;
  const before = await brokerWrites(context);
  const problems: string[] = [];
  let sent = 0;
  let refused = 0;
  let serverErrors = 0;
  let letThrough = 0;
  let accepted = 0;
  for (const route of GATEWAY_ROUTES) {
    const { cases } = await credentials(keys, context.harness, context.principalsFile, route.right);
    for (const credential of cases) {
      sent++;
      const response = await fetch(`${origin}${route.path}`, {
        method: route.method,
        headers: { ...credential.headers, ...(route.body !== undefined ? { "content-type": "application/json" } : {}) },
        ...(route.body !== undefined ? { body: route.body } : {}),
        signal: AbortSignal.timeout(30_000),
      }).catch((error: unknown) => error as Error);
      if (response instanceof Error) {
        problems.push(`${route.method} ${route.path} with ${credential.name}: no answer (${response.name})`);
        continue;
      }
      const status = response.status;
      await response.body?.cancel();
      const what = `${route.method} ${route.path} with ${credential.name}: ${status}`;
      if (status >= 500) {
        serverErrors++;
        problems.push(`${what} (a server error)`);
      }
      if (credential.expect === "ok") {
        if (status === 401 || status === 403) problems.push(`${what} (refused a valid principal)`);
        else accepted++;
      } else if (status === credential.expect) {
        refused++;
      } else {
        letThrough++;
        problems.push(`${what} (expected ${credential.expect})`);
      }
    }
  }
  const after = await brokerWrites(context);
  const written = after.writtenSince(before);
  if (written !== 0) problems.push(`${written} messages were written (${after.grownSince(before).join(", ")})`);
  return {
    scenario: "auth-matrix",
    load: `${sent} requests: ${GATEWAY_ROUTES.length} gateway routes × 9–10 credentials`,
    faults: "none, malformed, expired, wrong signature, alg none, HS/RS confusion, revoked, no right",
    sent,
    acknowledged: accepted,
    readBack: 0,
    lost: 0,
    duplicated: 0,
    unexpected: letThrough + written,
    serverErrors,
    problems,
    details: { refused, letThrough },
  };
}
