import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  API_KEY_PATTERN,
  addPrincipal,
  hashApiKey,
  listPrincipals,
  PrincipalsError,
  PrincipalsStore,
  readPrincipalsFile,
  revokePrincipal,
} from "./principals.js";

const tempFile = () => join(mkdtempSync(join(tmpdir(), "gw-principals-")), "sub", "principals.json");

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PrincipalsError);
    return (error as PrincipalsError).code;
  }
  throw new Error("expected a PrincipalsError");
}

describe("the principals file", () => {
  it("stores a SHA-256 hash of a 256-bit key, never the key, in a 0600 file", () => {
    const file = tempFile();
    const { key, principal } = addPrincipal(file, { id: "billing", acl: ["produce:kronos.log.*"] });
    expect(key).toMatch(API_KEY_PATTERN);
    expect(Buffer.from(key.slice(4), "base64url")).toHaveLength(32);
    expect(principal).toMatchObject({ id: "billing", acl: ["produce:kronos.log.*"], revokedAt: null });
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain(key);
    expect(readPrincipalsFile(file).principals[0]?.hash).toBe(hashApiKey(key));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(addPrincipal(file, { id: "other", acl: ["admin"] }).key).not.toBe(key);
  });

  it("lists without hashes, revokes once (first date kept)", () => {
    const file = tempFile();
    addPrincipal(file, { id: "a", acl: ["admin"] }, new Date("2026-01-01T00:00:00Z"));
    addPrincipal(file, { id: "b", acl: ["consume:q.*"] }, new Date("2026-01-02T00:00:00Z"));
    expect(listPrincipals(file)).toEqual([
      { id: "a", acl: ["admin"], created: "2026-01-01T00:00:00.000Z", revokedAt: null },
      { id: "b", acl: ["consume:q.*"], created: "2026-01-02T00:00:00.000Z", revokedAt: null },
    ]);
    expect(revokePrincipal(file, "a", new Date("2026-02-01T00:00:00Z")).revokedAt).toBe("2026-02-01T00:00:00.000Z");
    expect(revokePrincipal(file, "a", new Date("2026-03-01T00:00:00Z")).revokedAt).toBe("2026-02-01T00:00:00.000Z");
    expect(listPrincipals(file).map((p) => p.revokedAt)).toEqual(["2026-02-01T00:00:00.000Z", null]);
  });

  it("refuses bad ids, bad rights, duplicates (revoked included) and unknown ids", () => {
    const file = tempFile();
    expect(codeOf(() => addPrincipal(file, { id: "has space", acl: ["admin"] }))).toBe("INVALID_ID");
    expect(codeOf(() => addPrincipal(file, { id: "x", acl: ["publish:*"] }))).toBe("INVALID_ACL");
    addPrincipal(file, { id: "x", acl: ["admin"] });
    revokePrincipal(file, "x");
    expect(codeOf(() => addPrincipal(file, { id: "x", acl: ["admin"] }))).toBe("PRINCIPAL_EXISTS");
    expect(codeOf(() => revokePrincipal(file, "nobody"))).toBe("UNKNOWN_PRINCIPAL");
  });

  it("is empty when missing, and refused when invalid", () => {
    const file = tempFile();
    expect(listPrincipals(file)).toEqual([]);
    addPrincipal(file, { id: "x", acl: ["admin"] });
    writeFileSync(file, "{ not json");
    expect(codeOf(() => listPrincipals(file))).toBe("INVALID_FILE");
    writeFileSync(file, JSON.stringify({ version: 1, principals: [{ id: "x" }] }));
    expect(codeOf(() => listPrincipals(file))).toBe("INVALID_FILE");
  });
});

describe("PrincipalsStore", () => {
  it("finds a key's principal, and sees additions and revocations without a restart", async () => {
    const file = tempFile();
    const store = new PrincipalsStore(file);
    const { key } = addPrincipal(file, { id: "svc", acl: ["produce:*"] });
    expect(await store.lookup(key)).toEqual({
      found: "valid",
      principal: { id: "svc", kind: "api-key", identity: "key:svc", acl: ["produce:*"] },
    });
    const second = addPrincipal(file, { id: "svc2", acl: ["admin"] });
    expect(await store.lookup(second.key)).toMatchObject({ found: "valid", principal: { id: "svc2" } });
    revokePrincipal(file, "svc", new Date("2026-05-01T00:00:00Z"));
    expect(await store.lookup(key)).toEqual({ found: "revoked", id: "svc", revokedAt: "2026-05-01T00:00:00.000Z" });
  });

  it("does not know random or malformed keys, nor the stored hash itself", async () => {
    const file = tempFile();
    const store = new PrincipalsStore(file);
    expect(await store.lookup("kgw_whatever")).toEqual({ found: "unknown" });
    addPrincipal(file, { id: "svc", acl: ["admin"] });
    const hash = readPrincipalsFile(file).principals[0]?.hash ?? "";
    expect(await store.lookup(hash)).toEqual({ found: "unknown" });
    expect(await store.lookup(`kgw_${Buffer.alloc(32).toString("base64url")}`)).toEqual({ found: "unknown" });
  });

  it("answers at once (lookupFresh) while the file is unchanged, and only for keys it holds", async () => {
    const file = tempFile();
    const { key } = addPrincipal(file, { id: "svc", acl: ["produce:*"] });
    const store = new PrincipalsStore(file);
    // Never read the file yet: no synchronous answer.
    expect(store.lookupFresh(key)).toBeUndefined();
    expect((await store.lookup(key)).found).toBe("valid");
    expect(store.lookupFresh(key)).toEqual({
      found: "valid",
      principal: { id: "svc", kind: "api-key", identity: "key:svc", acl: ["produce:*"] },
    });
    expect(store.lookupFresh("not-a-key")).toEqual({ found: "unknown" });
    // The file changed (a key added): no synchronous answer until lookup has read it again.
    const added = addPrincipal(file, { id: "svc2", acl: ["admin"] });
    expect(store.lookupFresh(added.key)).toBeUndefined();
    expect(store.lookupFresh(key)).toBeUndefined();
    expect((await store.lookup(added.key)).found).toBe("valid");
    expect(store.lookupFresh(added.key)).toMatchObject({ found: "valid", principal: { id: "svc2" } });
  });

  it("refuses a revoked key from the very next lookup on (no delay)", async () => {
    const file = tempFile();
    const { key } = addPrincipal(file, { id: "svc", acl: ["admin"] });
    const store = new PrincipalsStore(file);
    expect((await store.lookup(key)).found).toBe("valid");
    expect(store.lookupFresh(key)?.found).toBe("valid");
    revokePrincipal(file, "svc", new Date("2026-05-01T00:00:00Z"));
    expect(store.lookupFresh(key)).toBeUndefined();
    expect(await store.lookup(key)).toMatchObject({ found: "revoked", id: "svc" });
    expect(store.lookupFresh(key)).toMatchObject({ found: "revoked" });
  });

  it("fails closed on an invalid file", async () => {
    const file = tempFile();
    const { key } = addPrincipal(file, { id: "svc", acl: ["admin"] });
    const store = new PrincipalsStore(file);
    expect((await store.lookup(key)).found).toBe("valid");
    writeFileSync(file, "[]");
    await expect(store.lookup(key)).rejects.toThrow(/is not a principals file/);
  });
});
