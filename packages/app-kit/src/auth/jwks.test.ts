import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureLocalTls, loadSettings } from "@kronos/local-stack";
import { exportJWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpError } from "../http-error.js";
import { createJwtVerifier, IDENTITY_PROVIDER_UNAVAILABLE, type JwtConfig, readJwtConfig } from "./jwt.js";

/** A local identity provider's key set, whose keys the test swaps (a rotation) and whose hits it counts. */
class JwksServer {
  keys: object[] = [];
  hits = 0;
  readonly #server: Server = createServer((_request, response) => {
    this.hits++;
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ keys: this.keys }));
  });
  url = "";

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }
  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

async function jwk(key: KeyObject, kid: string, alg: string) {
  return { ...(await exportJWK(key)), kid, alg, use: "sig" };
}

const rsaOld = generateKeyPairSync("rsa", { modulusLength: 2048 });
const rsaNew = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const ed = generateKeyPairSync("ed25519");

function sign(privateKey: KeyObject, alg: string, kid?: string, claims: Record<string, unknown> = {}) {
  return new SignJWT({ acl: ["admin"], ...claims })
    .setProtectedHeader({ alg, ...(kid === undefined ? {} : { kid }) })
    .setSubject("idp-user")
    .setIssuer("https://idp.example")
    .setExpirationTime("1m")
    .sign(privateKey);
}

function config(env: Record<string, string>): JwtConfig {
  const problems: string[] = [];
  const result = readJwtConfig(env, problems, "GATEWAY");
  expect(problems).toEqual([]);
  return result as JwtConfig;
}

async function failure(verify: (t: string) => Promise<unknown>, jwt: string): Promise<HttpError> {
  const error = await verify(jwt).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HttpError);
  return error as HttpError;
}

describe("JWTs from an identity provider's key set (JWKS)", () => {
  const idp = new JwksServer();
  beforeAll(() => idp.start());
  afterAll(() => idp.stop());

  it("accepts RS256, ES256 and EdDSA keys of the set; after a rotation the new key is fetched once", async () => {
    idp.keys = [await jwk(rsaOld.publicKey, "old", "RS256"), await jwk(ec.publicKey, "ec", "ES256")];
    idp.keys.push(await jwk(ed.publicKey, "ed", "EdDSA"));
    idp.hits = 0;
    // A cooldown of 0: an unknown kid may refetch at once (the rate limit has its own test below).
    const verify = createJwtVerifier(
      config({
        GATEWAY_JWT_JWKS_URL: idp.url,
        GATEWAY_JWT_JWKS_COOLDOWN_MS: "0",
        GATEWAY_JWT_ISSUER: "https://idp.example",
      }),
    );
    await expect(verify(await sign(rsaOld.privateKey, "RS256", "old"))).resolves.toMatchObject({
      id: "idp-user",
      identity: "jwt:https%3A%2F%2Fidp.example:idp-user",
    });
    await expect(verify(await sign(ec.privateKey, "ES256", "ec"))).resolves.toMatchObject({ id: "idp-user" });
    await expect(verify(await sign(ed.privateKey, "EdDSA", "ed"))).resolves.toMatchObject({ id: "idp-user" });
    expect(idp.hits).toBe(1); // cached

    // The provider rotates: the old key leaves, a new one comes.
    idp.keys = [await jwk(rsaNew.publicKey, "new", "RS256")];
    await expect(verify(await sign(rsaNew.privateKey, "RS256", "new"))).resolves.toMatchObject({ id: "idp-user" });
    expect(idp.hits).toBe(2);
    await expect(verify(await sign(rsaNew.privateKey, "RS256", "new"))).resolves.toMatchObject({ id: "idp-user" });
    expect(idp.hits).toBe(2);
  });

  it("an unknown kid fetches the set at most once per cooldown, and is a 401", async () => {
    idp.keys = [await jwk(rsaNew.publicKey, "new", "RS256")];
    idp.hits = 0;
    const verify = createJwtVerifier(config({ GATEWAY_JWT_JWKS_URL: idp.url, GATEWAY_JWT_JWKS_COOLDOWN_MS: "60000" }));
    await expect(verify(await sign(rsaNew.privateKey, "RS256", "new"))).resolves.toBeDefined();
    expect(idp.hits).toBe(1);
    for (let i = 0; i < 20; i++) {
      const error = await failure(verify, await sign(rsaOld.privateKey, "RS256", `made-up-${i}`));
      expect(error.statusCode).toBe(401);
      expect(error.message).toMatch(/not in the identity provider's key set/);
    }
    // Twenty unknown kids within the cooldown: not one more fetch.
    expect(idp.hits).toBe(1);
  });

  it("refuses a token whose alg does not fit its key, HS256, and none", async () => {
    idp.keys = [await jwk(rsaNew.publicKey, "new", "RS256"), await jwk(ec.publicKey, "ec", "ES256")];
    const verify = createJwtVerifier(config({ GATEWAY_JWT_JWKS_URL: idp.url }));
    // Signed by the EC key but announcing the RSA key's kid: the RSA key cannot verify ES256.
    expect((await failure(verify, await sign(ec.privateKey, "ES256", "new"))).statusCode).toBe(401);
    const hs = await sign(new TextEncoder().encode("x".repeat(40)) as never, "HS256", "new");
    expect((await failure(verify, hs)).message).toMatch(
      /^Token algorithm is not accepted \(accepted: RS256, ES256, EdDSA\)/,
    );
    const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const none = `${part({ alg: "none" })}.${part({ sub: "x", exp: 9_999_999_999 })}.`;
    expect((await failure(verify, none)).statusCode).toBe(401);
  });

  it("fetches an https key set trusting <PREFIX>_JWT_JWKS_CA_FILE, and is a 503 without that CA", async () => {
    const tls = ensureLocalTls(loadSettings());
    const keys = { keys: [await jwk(rsaNew.publicKey, "new", "RS256")] };
    const server = createHttpsServer(
      { cert: readFileSync(tls.serverCertFile), key: readFileSync(tls.serverKeyFile) },
      (_request, response) => response.end(JSON.stringify(keys)),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
      const trusted = createJwtVerifier(config({ GATEWAY_JWT_JWKS_URL: url, GATEWAY_JWT_JWKS_CA_FILE: tls.caFile }));
      await expect(trusted(await sign(rsaNew.privateKey, "RS256", "new"))).resolves.toMatchObject({ id: "idp-user" });
      const untrusted = createJwtVerifier(config({ GATEWAY_JWT_JWKS_URL: url }));
      const error = await failure(untrusted, await sign(rsaNew.privateKey, "RS256", "new"));
      expect(error.code).toBe(IDENTITY_PROVIDER_UNAVAILABLE);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("an unreachable key set is a 503 IDENTITY_PROVIDER_UNAVAILABLE, not the client's 401", async () => {
    const down = new JwksServer();
    await down.start();
    const url = down.url;
    await down.stop();
    const verify = createJwtVerifier(config({ GATEWAY_JWT_JWKS_URL: url, GATEWAY_JWT_JWKS_TIMEOUT_MS: "1000" }));
    const error = await failure(verify, await sign(rsaNew.privateKey, "RS256", "new"));
    expect(error.statusCode).toBe(503);
    expect(error.code).toBe(IDENTITY_PROVIDER_UNAVAILABLE);
  });
});

describe("public keys and secrets of every kind", () => {
  it("takes an ES256 or EdDSA public key, each verifying only its own algorithm", async () => {
    const ecPem = ec.publicKey.export({ type: "spki", format: "pem" }).toString();
    const edPem = ed.publicKey.export({ type: "spki", format: "pem" }).toString();
    const es = config({ GATEWAY_JWT_PUBLIC_KEY: ecPem });
    expect(es.algorithms).toEqual(["ES256"]);
    await expect(createJwtVerifier(es)(await sign(ec.privateKey, "ES256"))).resolves.toBeDefined();
    const eddsa = config({ GATEWAY_JWT_PUBLIC_KEY: edPem });
    expect(eddsa.algorithms).toEqual(["EdDSA"]);
    await expect(createJwtVerifier(eddsa)(await sign(ed.privateKey, "EdDSA"))).resolves.toBeDefined();
    expect((await failure(createJwtVerifier(eddsa), await sign(ec.privateKey, "ES256"))).statusCode).toBe(401);
  });

  it("reads the secret and the public key from <NAME>_FILE", async () => {
    const dir = mkdtempSync(join(tmpdir(), "jwt-file-"));
    writeFileSync(join(dir, "secret"), "0123456789abcdef0123456789abcdef-file\n");
    writeFileSync(join(dir, "pub.pem"), ec.publicKey.export({ type: "spki", format: "pem" }).toString());
    const fromFiles = config({
      GATEWAY_JWT_SECRET_FILE: join(dir, "secret"),
      GATEWAY_JWT_PUBLIC_KEY_FILE: join(dir, "pub.pem"),
    });
    expect(fromFiles.algorithms).toEqual(["HS256", "ES256"]);
    expect(new TextDecoder().decode(fromFiles.secret)).toBe("0123456789abcdef0123456789abcdef-file");
  });

  it("names each wrong JWKS setting", () => {
    const problems: string[] = [];
    readJwtConfig({ GATEWAY_JWT_JWKS_URL: "ftp://idp", GATEWAY_JWT_JWKS_CA_FILE: "/no/ca" }, problems, "GATEWAY");
    readJwtConfig(
      {
        GATEWAY_JWT_JWKS_URL: "http://idp/jwks",
        GATEWAY_JWT_PUBLIC_KEY: ed.publicKey.export({ type: "spki", format: "pem" }).toString(),
      },
      problems,
      "GATEWAY",
    );
    readJwtConfig({ GATEWAY_JWT_JWKS_URL: "http://idp/jwks", GATEWAY_JWT_JWKS_TIMEOUT_MS: "0" }, problems, "GATEWAY");
    expect(problems).toEqual([
      'GATEWAY_JWT_JWKS_URL="ftp://idp" is not an http:// or https:// URL',
      "GATEWAY_JWT_PUBLIC_KEY and GATEWAY_JWT_JWKS_URL are both set: set one of them",
      'GATEWAY_JWT_JWKS_TIMEOUT_MS="0" is not an integer from 100 to 60000',
    ]);
  });
});
