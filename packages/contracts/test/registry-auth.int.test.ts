import { readFileSync } from "node:fs";
import { type AuthProxy, startAuthProxy, TestResources } from "@kronos/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfluentRegistryClient, ContractError, defineEvent, RegistrySerde } from "../src/index.js";

// The real registry behind an authenticating HTTPS proxy (basic and bearer), reached with the local stack's CA.
const resources = new TestResources();
const PASSWORD = "registry-pass-Zq81";
const TOKEN = "registry-token-Lw27";
let proxy: AuthProxy;
let ca: string;

beforeAll(async () => {
  proxy = await startAuthProxy({ basic: { username: "kronos-test", password: PASSWORD }, token: TOKEN });
  ca = readFileSync(proxy.caFile, "utf8");
});
afterAll(async () => {
  await proxy?.close();
  await resources.cleanup();
});

function event() {
  const subject = resources.subject("kronos.test.Secured");
  return defineEvent<{ id: string }>({
    name: "kronos.test.Secured",
    subject,
    schema: { type: "record", name: "Secured", namespace: "kronos.test", fields: [{ name: "id", type: "string" }] },
    source: "test",
  });
}

async function failure(promise: Promise<unknown>): Promise<ContractError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ContractError);
  return error as ContractError;
}

describe("the registry client through an authenticating HTTPS proxy", () => {
  it.each([
    ["basic", { kind: "basic", username: "kronos-test", password: PASSWORD }],
    ["bearer", { kind: "bearer", token: TOKEN }],
  ] as const)("registers, looks up and round-trips with %s credentials", async (_, auth) => {
    const secured = event();
    const serde = new RegistrySerde({ url: proxy.url, auth, ca, autoRegister: true, retries: 0 });
    const before = proxy.counts.requests;
    const bytes = await serde.encode(secured, { id: "a" });
    expect(await new RegistrySerde({ url: proxy.url, auth, ca }).decode(secured, bytes)).toEqual({ id: "a" });
    const client = new ConfluentRegistryClient({ url: proxy.url, auth, ca });
    expect((await client.latestVersion(secured.subject))?.id).toBe(bytes.readUInt32BE(1));
    await client.checkHealth();
    // Went through the proxy, the library's requests and ours alike, and none was refused.
    expect(proxy.counts.requests - before).toBeGreaterThanOrEqual(4);
  });

  it("takes credentials from the URL's userinfo and never shows them", async () => {
    const [scheme, rest] = proxy.url.split("://") as [string, string];
    const client = new ConfluentRegistryClient({ url: `${scheme}://kronos-test:${PASSWORD}@${rest}`, ca });
    expect(client.url).toBe(proxy.url);
    await client.checkHealth();
  });

  it("a wrong password is REGISTRY_UNAUTHORIZED, not retriable, naming the settings and not the secret", async () => {
    const refusedBefore = proxy.counts.refused;
    const auth = { kind: "basic", username: "kronos-test", password: "wrong-pass-Yt55" } as const;
    const serde = new RegistrySerde({ url: proxy.url, auth, ca, autoRegister: true, retries: 0 });
    const error = await failure(serde.encode(event(), { id: "a" }));
    expect(error.code).toBe("REGISTRY_UNAUTHORIZED");
    expect(error.retriable).toBe(false);
    expect(error.message).toContain("SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD");
    expect(error.message).not.toContain("wrong-pass-Yt55");
    expect(proxy.counts.refused).toBeGreaterThan(refusedBefore);
    // The library's own requests (lookup by id) say the same.
    const library = await failure(new ConfluentRegistryClient({ url: proxy.url, auth, ca }).getWriterType(1));
    expect(library.code).toBe("REGISTRY_UNAUTHORIZED");
    const none = await failure(new ConfluentRegistryClient({ url: proxy.url, ca }).checkHealth());
    expect(none.message).toMatch(/needs credentials and none are set .*SCHEMA_REGISTRY_TOKEN/);
    const token = await failure(
      new ConfluentRegistryClient({
        url: proxy.url,
        auth: { kind: "bearer", token: "nope-tok-Hj3" },
        ca,
      }).checkHealth(),
    );
    expect(token.message).toContain("refused the token");
    expect(token.message).toContain("SCHEMA_REGISTRY_TOKEN");
  });

  it("an untrusted certificate is REGISTRY_TLS_FAILED naming SCHEMA_REGISTRY_CA_FILE", async () => {
    const untrusted = readFileSync(proxy.untrustedCaFile, "utf8");
    const auth = { kind: "bearer", token: TOKEN } as const;
    for (const client of [
      new ConfluentRegistryClient({ url: proxy.url, auth, ca: untrusted, retries: 0 }),
      new ConfluentRegistryClient({ url: proxy.url, auth, retries: 0 }), // Node's default roots
    ]) {
      const ours = await failure(client.checkHealth());
      expect(ours.code).toBe("REGISTRY_TLS_FAILED");
      expect(ours.retriable).toBe(false);
      expect(ours.message).toContain("SCHEMA_REGISTRY_CA_FILE");
      const library = await failure(client.getWriterType(1));
      expect(library.code).toBe("REGISTRY_TLS_FAILED");
    }
  });
});
