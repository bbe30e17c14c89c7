import { hash, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Env } from "../config.js";
import { parseRight, RIGHTS } from "./acl.js";
import { apiKeyIdentity, type Principal } from "./principal.js";

/**
 * An API-key principal as the principals file stores it. The key itself is never stored: `hash` is
 * `sha256:<hex>` of the key. A fast hash is enough because keys are 256 random bits (nothing to guess, unlike a
 * password, so a slow KDF like scrypt would add nothing but CPU on every request).
 */
export interface StoredPrincipal {
  readonly id: string;
  readonly hash: string;
  readonly acl: readonly string[];
  /** ISO 8601. */
  readonly created: string;
  /** ISO 8601 when revoked, `null` while valid. */
  readonly revokedAt: string | null;
}

/** A principal as listed: everything but the hash. */
export type ListedPrincipal = Omit<StoredPrincipal, "hash">;

/** The principals file: `{ "version": 1, "principals": [...] }`, written with mode 0600. */
export interface PrincipalsFile {
  readonly version: 1;
  readonly principals: readonly StoredPrincipal[];
}

/** Why managing principals failed; `code` is stable. */
export class PrincipalsError extends Error {
  override readonly name = "PrincipalsError";
  readonly code: "INVALID_FILE" | "INVALID_ID" | "INVALID_ACL" | "PRINCIPAL_EXISTS" | "UNKNOWN_PRINCIPAL";

  constructor(code: PrincipalsError["code"], message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * The principals file of an app: the path in `<prefix>_PRINCIPALS_FILE` (`GATEWAY_PRINCIPALS_FILE`,
 * `RELAY_PRINCIPALS_FILE`, ...; a relative one is resolved against the working directory), else the one file all the
 * apps share, `$XDG_CONFIG_HOME/kronos/principals.json`, i.e. `~/.config/kronos/principals.json` — per user,
 * outside any checkout, so no key lands in git.
 */
export function principalsFilePath(env: Env, prefix: string): string {
  const explicit = env[`${prefix}_PRINCIPALS_FILE`]?.trim();
  if (explicit) return resolve(explicit);
  const configHome = env.XDG_CONFIG_HOME?.trim() || join(homedir(), ".config");
  return join(configHome, "kronos", "principals.json");
}

/** API keys look like `kgw_` + 43 base64url characters (32 random bytes); the prefix lets secret scanners find them. */
export const API_KEY_PATTERN = /^kgw_[A-Za-z0-9_-]{43}$/;

const RIGHT_NAMES = Object.entries(RIGHTS)
  .map(([name, right]) => (right.scoped ? `${name}:<glob>` : name))
  .join(", ");

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;

/** A new random API key (256 bits). */
export function generateApiKey(): string {
  return `kgw_${randomBytes(32).toString("base64url")}`;
}

/** The stored form of a key: `sha256:<hex>`. */
export function hashApiKey(key: string): string {
  return `sha256:${hash("sha256", key, "hex")}`;
}

function isStoredPrincipal(value: unknown): value is StoredPrincipal {
  if (typeof value !== "object" || value === null) return false;
  const p = value as Record<string, unknown>;
  return (
    typeof p.id === "string" &&
    typeof p.hash === "string" &&
    /^sha256:[0-9a-f]{64}$/.test(p.hash) &&
    Array.isArray(p.acl) &&
    p.acl.every((r) => typeof r === "string") &&
    typeof p.created === "string" &&
    (p.revokedAt === null || typeof p.revokedAt === "string")
  );
}

/** Parses the file's text; throws `PrincipalsError` `INVALID_FILE` naming the file when it is not as expected. */
export function parsePrincipalsFile(text: string, path: string): PrincipalsFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new PrincipalsError("INVALID_FILE", `${path} is not valid JSON`);
  }
  const file = data as { version?: unknown; principals?: unknown };
  if (typeof data !== "object" || data === null || file.version !== 1 || !Array.isArray(file.principals)) {
    throw new PrincipalsError("INVALID_FILE", `${path} is not a principals file ({"version":1,"principals":[...]})`);
  }
  const bad = file.principals.findIndex((p) => !isStoredPrincipal(p));
  if (bad !== -1) throw new PrincipalsError("INVALID_FILE", `${path}: principals[${bad}] is not a valid principal`);
  return { version: 1, principals: file.principals as StoredPrincipal[] };
}

/** Reads the principals file; a missing file is an empty one. Throws `PrincipalsError` when it is invalid. */
export function readPrincipalsFile(path: string): PrincipalsFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, principals: [] };
    throw error;
  }
  return parsePrincipalsFile(text, path);
}

/**
 * Writes the principals file atomically (a temporary file renamed into place, so a reader never sees half a file
 * and the apps notice the new inode), mode 0600, creating its folder (0700) when needed.
 */
export function writePrincipalsFile(path: string, file: PrincipalsFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const partial = `${path}.${process.pid}.tmp`;
  writeFileSync(partial, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  renameSync(partial, path);
}

/**
 * Adds a principal with a new API key and returns the key: the only time it is ever shown. Throws
 * `PrincipalsError` when the id is invalid (`INVALID_ID`: letters, digits, `.`, `_`, `@`, `-`, up to 128) or
 * taken, revoked ones included (`PRINCIPAL_EXISTS`), or a right is not one of `RIGHTS` (`admin`, `dlq:read`,
 * `produce:<glob>`, ...: `INVALID_ACL`).
 */
export function addPrincipal(
  path: string,
  input: { readonly id: string; readonly acl: readonly string[] },
  now: Date = new Date(),
): { readonly principal: ListedPrincipal; readonly key: string } {
  if (!ID_PATTERN.test(input.id)) {
    throw new PrincipalsError(
      "INVALID_ID",
      `"${input.id}" is not a valid principal id (letters, digits, ".", "_", "@", "-"; at most 128)`,
    );
  }
  const invalid = input.acl.filter((right) => parseRight(right) === undefined);
  if (invalid.length > 0) {
    throw new PrincipalsError(
      "INVALID_ACL",
      `not a right: ${invalid.map((r) => `"${r}"`).join(", ")} (rights are ${RIGHT_NAMES})`,
    );
  }
  const file = readPrincipalsFile(path);
  if (file.principals.some((p) => p.id === input.id)) {
    throw new PrincipalsError("PRINCIPAL_EXISTS", `a principal "${input.id}" already exists in ${path}`);
  }
  const key = generateApiKey();
  const stored: StoredPrincipal = {
    id: input.id,
    hash: hashApiKey(key),
    acl: [...input.acl],
    created: now.toISOString(),
    revokedAt: null,
  };
  writePrincipalsFile(path, { version: 1, principals: [...file.principals, stored] });
  const { hash: _hash, ...principal } = stored;
  return { principal, key };
}

/** Every principal of the file, revoked ones included, without hashes. */
export function listPrincipals(path: string): ListedPrincipal[] {
  return readPrincipalsFile(path).principals.map(({ hash: _hash, ...principal }) => principal);
}

/**
 * Revokes a principal: its key is refused (401) from the apps' next request on, without a restart. Revoking
 * a revoked principal keeps the first date. Throws `PrincipalsError` `UNKNOWN_PRINCIPAL` when there is none by
 * that id.
 */
export function revokePrincipal(path: string, id: string, now: Date = new Date()): ListedPrincipal {
  const file = readPrincipalsFile(path);
  const target = file.principals.find((p) => p.id === id);
  if (target === undefined) throw new PrincipalsError("UNKNOWN_PRINCIPAL", `no principal "${id}" in ${path}`);
  const revoked: StoredPrincipal = { ...target, revokedAt: target.revokedAt ?? now.toISOString() };
  writePrincipalsFile(path, {
    version: 1,
    principals: file.principals.map((p) => (p === target ? revoked : p)),
  });
  const { hash: _hash, ...principal } = revoked;
  return principal;
}

/** The outcome of {@link PrincipalsStore.lookup}. */
export type KeyLookup =
  | { readonly found: "valid"; readonly principal: Principal }
  | { readonly found: "revoked"; readonly id: string; readonly revokedAt: string }
  | { readonly found: "unknown" };

interface Snapshot {
  readonly version: string;
  readonly entries: readonly { readonly digest: Buffer; readonly stored: StoredPrincipal }[];
}

/**
 * An app's view of the principals file. Every lookup checks the file's inode, size and mtime (one synchronous
 * `stat`, about 3 µs) and re-reads it when any changed, so an added or revoked principal counts from the very next
 * request on, with no restart. A missing file holds no principals; an invalid one makes {@link lookup} throw (the
 * app fails closed).
 */
export class PrincipalsStore {
  readonly path: string;
  #snapshot: Snapshot = { version: "unread", entries: [] };
  #loading: Promise<Snapshot> | undefined;

  constructor(path: string) {
    this.path = path;
  }

  /** The file's version now (`<inode>:<size>:<mtime ns>`, or `missing`); throws when it cannot be looked at. */
  #version(): string {
    const s = statSync(this.path, { bigint: true, throwIfNoEntry: false });
    return s === undefined ? "missing" : `${s.ino}:${s.size}:${s.mtimeNs}`;
  }

  async #current(): Promise<Snapshot> {
    const version = this.#version();
    if (version === this.#snapshot.version) return this.#snapshot;
    this.#loading ??= this.#load(version).finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #load(version: string): Promise<Snapshot> {
    let file: PrincipalsFile = { version: 1, principals: [] };
    if (version !== "missing") {
      try {
        file = parsePrincipalsFile(await readFile(this.path, "utf8"), this.path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
    }
    const entries = file.principals.map((stored) => ({
      digest: Buffer.from(stored.hash.slice("sha256:".length), "hex"),
      stored,
    }));
    this.#snapshot = { version, entries };
    return this.#snapshot;
  }

  /**
   * Finds the principal of an API key. Every stored hash is compared in constant time (no early exit), so the
   * time taken says nothing about which hash, or how much of one, matched. Keys added to and revoked in the file
   * count at once. Throws when the file cannot be read or is invalid.
   */
  async lookup(key: string): Promise<KeyLookup> {
    if (!API_KEY_PATTERN.test(key)) return { found: "unknown" };
    // One-shot hash: no Hash object per request (createHash/update/digest cost about twice as much).
    return this.#find(await this.#current(), hash("sha256", key, "buffer"));
  }

  /**
   * {@link lookup}'s answer when it needs no file read, synchronously: the file is unchanged since it was read
   * (one synchronous `stat`) and holds the key (valid or revoked), or the key is not even shaped like one
   * (unknown). `undefined` otherwise (the file changed, a reload under way, it cannot be looked at, or a key it does
   * not hold): then call {@link lookup}. Lets the authentication hook of nearly every request run without a
   * promise; same constant-time comparison.
   */
  lookupFresh(key: string): KeyLookup | undefined {
    if (this.#loading !== undefined) return undefined;
    if (!API_KEY_PATTERN.test(key)) return { found: "unknown" };
    let version: string;
    try {
      version = this.#version();
    } catch {
      return undefined; // lookup() reports it (503, fails closed)
    }
    if (version !== this.#snapshot.version) return undefined;
    const found = this.#find(this.#snapshot, hash("sha256", key, "buffer"));
    return found.found === "unknown" ? undefined : found;
  }

  #find(snapshot: Snapshot, digest: Buffer): KeyLookup {
    let match: StoredPrincipal | undefined;
    for (const entry of snapshot.entries) {
      if (timingSafeEqual(entry.digest, digest) && match === undefined) match = entry.stored;
    }
    if (match === undefined) return { found: "unknown" };
    if (match.revokedAt !== null) return { found: "revoked", id: match.id, revokedAt: match.revokedAt };
    return {
      found: "valid",
      principal: { id: match.id, kind: "api-key", identity: apiKeyIdentity(match.id), acl: match.acl },
    };
  }
}
