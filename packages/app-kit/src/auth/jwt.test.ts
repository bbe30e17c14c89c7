import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { HttpError } from "../http-error.js";
import { createJwtVerifier, type JwtConfig, readJwtConfig } from "./jwt.js";
import { apiKeyIdentity, jwtIdentity } from "./principal.js";

const SECRET = "0123456789abcdef0123456789abcdef-test";
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const publicPem = rsa.publicKey.export({ type: "spki", format: "pem" }).toString();
const otherRsa = generateKeyPairSync("rsa", { modulusLength: 2048 });

function config(env: Record<string, string>): JwtConfig | undefined {
  const problems: string[] = [];
  const result = readJwtConfig(env, problems, "GATEWAY");
  expect(problems).toEqual([]);
  return result;
}

const hsOnly = config({ GATEWAY_JWT_SECRET: SECRET });
const rsOnly = config({ GATEWAY_JWT_PUBLIC_KEY: publicPem });
const both = config({ GATEWAY_JWT_SECRET: SECRET, GATEWAY_JWT_PUBLIC_KEY: publicPem });
const withClaims = config({
  GATEWAY_JWT_SECRET: SECRET,
  GATEWAY_JWT_ISSUER: "kronos-idp",
  GATEWAY_JWT_AUDIENCE: "gateway",
});

const now = () => Math.floor(Date.now() / 1000);
const secretKey = new TextEncoder().encode(SECRET);

function token(claims: Record<string, unknown> = {}, exp: number | null = now() + 60) {
  const jwt = new SignJWT({ acl: ["admin"], ...claims }).setProtectedHeader({ alg: "HS256" }).setSubject("alice");
  if (exp !== null) jwt.setExpirationTime(exp);
  return jwt;
}

function unsecured(payload: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part(payload)}.`;
}

async function refusal(verify: (t: string) => Promise<unknown>, jwt: string): Promise<string> {
  try {
    await verify(jwt);
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).statusCode).toBe(401);
    expect((error as HttpError).code).toBe("UNAUTHENTICATED");
    return (error as HttpError).message;
  }
  throw new Error("the token was accepted");
}

describe("JWT verification", () => {
  it("accepts a valid HS256 token: principal from sub and acl", async () => {
    const principal = await createJwtVerifier(hsOnly)(await token({ acl: ["produce:kronos.*"] }).sign(secretKey));
    expect(principal).toEqual({ id: "alice", kind: "jwt", identity: "jwt::alice", acl: ["produce:kronos.*"] });
  });

  it("accepts a valid RS256 token, and an absent acl means no rights", async () => {
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: "RS256" })
      .setSubject("svc")
      .setExpirationTime("1m")
      .sign(rsa.privateKey);
    expect(await createJwtVerifier(rsOnly)(jwt)).toEqual({ id: "svc", kind: "jwt", identity: "jwt::svc", acl: [] });
    expect(await createJwtVerifier(both)(jwt)).toEqual({ id: "svc", kind: "jwt", identity: "jwt::svc", acl: [] });
  });

  it("refuses an expired token, allowing 5 s of clock skew", async () => {
    const verify = createJwtVerifier(hsOnly);
    expect(await refusal(verify, await token({}, now() - 30).sign(secretKey))).toMatch(/^Token expired at \d{4}-/);
    await expect(verify(await token({}, now() - 2).sign(secretKey))).resolves.toMatchObject({ id: "alice" });
  });

  it("refuses a token without exp, or without sub", async () => {
    const verify = createJwtVerifier(hsOnly);
    expect(await refusal(verify, await token({}, null).sign(secretKey))).toBe('Token has no "exp" claim');
    const noSub = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setExpirationTime("1m").sign(secretKey);
    expect(await refusal(verify, noSub)).toBe('Token has no "sub" claim');
  });

  it("refuses a wrong signature (HS256 other secret, RS256 other key)", async () => {
    const other = new TextEncoder().encode(`${SECRET}-other`);
    expect(await refusal(createJwtVerifier(hsOnly), await token().sign(other))).toBe("Token signature is invalid");
    const rs = await new SignJWT({}).setProtectedHeader({ alg: "RS256" }).setSubject("x").setExpirationTime("1m");
    expect(await refusal(createJwtVerifier(rsOnly), await rs.sign(otherRsa.privateKey))).toBe(
      "Token signature is invalid",
    );
  });

  it("refuses alg none, whatever is configured", async () => {
    const jwt = unsecured({ sub: "mallory", acl: ["admin"], exp: now() + 60 });
    for (const c of [hsOnly, rsOnly, both]) {
      expect(await refusal(createJwtVerifier(c), jwt)).toMatch(/^Token algorithm is not accepted/);
    }
  });

  it("refuses algorithm confusion: HS256 signed with the RSA public key", async () => {
    const forged = await token().sign(new TextEncoder().encode(publicPem));
    expect(await refusal(createJwtVerifier(rsOnly), forged)).toBe("Token algorithm is not accepted (accepted: RS256)");
    // With both configured, HS256 is checked with the secret only, never with the public key.
    expect(await refusal(createJwtVerifier(both), forged)).toBe("Token signature is invalid");
  });

  it("checks iss and aud when configured", async () => {
    const verify = createJwtVerifier(withClaims);
    const good = await token().setIssuer("kronos-idp").setAudience("gateway").sign(secretKey);
    await expect(verify(good)).resolves.toMatchObject({ id: "alice", identity: "jwt:kronos-idp:alice" });
    const badIss = await token().setIssuer("elsewhere").setAudience("gateway").sign(secretKey);
    expect(await refusal(verify, badIss)).toBe('Token issuer is not "kronos-idp"');
    const badAud = await token().setIssuer("kronos-idp").setAudience("other").sign(secretKey);
    expect(await refusal(verify, badAud)).toBe('Token audience does not include "gateway"');
  });

  it("refuses an acl that is not an array of strings, a malformed token, and any token when unconfigured", async () => {
    expect(await refusal(createJwtVerifier(hsOnly), await token({ acl: "admin" }).sign(secretKey))).toBe(
      'Token claim "acl" must be an array of strings',
    );
    expect(await refusal(createJwtVerifier(hsOnly), "not.a.jwt")).toBe("Token is malformed");
    expect(await refusal(createJwtVerifier(undefined), await token().sign(secretKey))).toMatch(/no JWT key/);
  });
});

describe("JWT configuration", () => {
  function problems(env: Record<string, string>): string[] {
    const found: string[] = [];
    readJwtConfig(env, found, "GATEWAY");
    return found;
  }

  it("is undefined without a key; HS256 and/or RS256 by which keys are set", () => {
    expect(readJwtConfig({}, [], "GATEWAY")).toBeUndefined();
    expect(hsOnly?.algorithms).toEqual(["HS256"]);
    expect(rsOnly?.algorithms).toEqual(["RS256"]);
    expect(both?.algorithms).toEqual(["HS256", "RS256"]);
  });

  it("reads the public key from a file path, or inline PEM with \\n escapes", () => {
    const dir = mkdtempSync(join(tmpdir(), "gw-jwt-"));
    writeFileSync(join(dir, "pub.pem"), publicPem);
    expect(config({ GATEWAY_JWT_PUBLIC_KEY: join(dir, "pub.pem") })?.publicKey?.asymmetricKeyType).toBe("rsa");
    const escaped = publicPem.trim().replaceAll("\n", "\\n");
    expect(config({ GATEWAY_JWT_PUBLIC_KEY: escaped })?.algorithms).toEqual(["RS256"]);
  });

  it("names the variable of each problem and never quotes the secret", () => {
    expect(problems({ GATEWAY_JWT_SECRET: "short-secret" })).toEqual([
      "GATEWAY_JWT_SECRET is too short (12 bytes): HS256 needs at least 32 random bytes",
    ]);
    expect(problems({ GATEWAY_JWT_PUBLIC_KEY: "/no/such/key.pem" })[0]).toBe(
      'GATEWAY_JWT_PUBLIC_KEY="/no/such/key.pem" is not a PEM key and cannot be read as a file (ENOENT)',
    );
    expect(problems({ GATEWAY_JWT_PUBLIC_KEY: "-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----" })).toEqual([
      "GATEWAY_JWT_PUBLIC_KEY=(PEM) does not hold a PEM public key or certificate",
    ]);
    const ec = generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey.export({ type: "spki", format: "pem" });
    expect(problems({ GATEWAY_JWT_PUBLIC_KEY: ec.toString() })).toEqual([
      "GATEWAY_JWT_PUBLIC_KEY=(PEM) is not an RSA key of at least 2048 bits (RS256), an EC P-256 key (ES256) or an Ed25519 key (EdDSA)",
    ]);
    expect(problems({ GATEWAY_JWT_ISSUER: "x" })[0]).toMatch(/^GATEWAY_JWT_ISSUER\/GATEWAY_JWT_AUDIENCE are set/);
  });

  it("reads the variables of the app's prefix only", () => {
    const found: string[] = [];
    expect(readJwtConfig({ GATEWAY_JWT_SECRET: SECRET }, found, "RELAY")).toBeUndefined();
    expect(readJwtConfig({ RELAY_JWT_SECRET: SECRET }, found, "RELAY")?.algorithms).toEqual(["HS256"]);
    readJwtConfig({ DLQ_JWT_SECRET: "short" }, found, "DLQ");
    expect(found).toEqual(["DLQ_JWT_SECRET is too short (5 bytes): HS256 needs at least 32 random bytes"]);
  });
});

describe("principal identities", () => {
  it("never make a JWT principal and an API-key principal the same identity", () => {
    expect(jwtIdentity(undefined, "billing")).not.toBe(apiKeyIdentity("billing"));
    expect(jwtIdentity("https://idp", "billing")).toBe("jwt:https%3A%2F%2Fidp:billing");
    // The issuer is encoded, so iss/sub boundaries cannot be shifted to forge another identity.
    expect(jwtIdentity("a:b", "c")).not.toBe(jwtIdentity("a", "b:c"));
    expect(jwtIdentity(undefined, "key:billing")).not.toBe(apiKeyIdentity("billing"));
  });
});
