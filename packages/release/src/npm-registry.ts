import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReleaseError } from "./errors.js";

/** An npm registry the release publishes to: its URL (ending in `/`) and the token it is given, if any. */
export interface NpmRegistry {
  readonly url: string;
  readonly token: string | undefined;
}

/** `url` with exactly one trailing slash. */
export function registryUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ReleaseError("BAD_USAGE", `--registry "${url}" is not a URL (e.g. http://127.0.0.1:4873/)`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ReleaseError("BAD_USAGE", `--registry "${url}" must be an http: or https: URL`);
  }
  return parsed.href.endsWith("/") ? parsed.href : `${parsed.href}/`;
}

/** The versions of `name` in the registry ([] when it has none). */
export async function publishedVersions(registry: NpmRegistry, name: string): Promise<string[]> {
  const url = `${registry.url}${name.replace("/", "%2f")}`;
  const get = () =>
    fetch(url, {
      headers: {
        accept: "application/vnd.npm.install-v1+json, application/json",
        ...(registry.token === undefined ? {} : { authorization: `Bearer ${registry.token}` }),
      },
      signal: AbortSignal.timeout(30_000),
    });
  let response: Response;
  try {
    // Once more on a failure to connect: a kept-alive connection the registry closed while idle fails the first
    // request on it ("fetch failed"), and a GET is safe to repeat.
    response = await get().catch(get);
  } catch (error) {
    throw new ReleaseError(
      "REGISTRY_UNREACHABLE",
      `the npm registry ${registry.url} did not answer (${(error as Error).message}): start the local stack ` +
        "(npm run stack -- up) or check --registry",
    );
  }
  if (response.status === 404) return [];
  if (!response.ok) {
    throw new ReleaseError(
      "REGISTRY_REFUSED",
      `the npm registry ${registry.url} answered ${response.status} for ${name}: check --registry and NPM_TOKEN`,
    );
  }
  const body = (await response.json()) as { versions?: Record<string, unknown> };
  return Object.keys(body.versions ?? {});
}

/**
 * Publishes the tarball `tarball` with npm to `registry`. The token goes in a temporary npm config file of its
 * own (never on a command line, never in the user's ~/.npmrc).
 */
export function npmPublish(registry: NpmRegistry, tarball: string): void {
  const dir = mkdtempSync(join(tmpdir(), "kronos-release-"));
  const userconfig = join(dir, ".npmrc");
  const host = registry.url.replace(/^https?:/, "");
  // Verdaccio lets anyone publish @kronos/* on the local stack, but npm refuses to publish without a token.
  writeFileSync(
    userconfig,
    `registry=${registry.url}\n${host}:_authToken=${registry.token ?? "kronos-local-stack"}\n`,
    {
      mode: 0o600,
    },
  );
  try {
    const result = spawnSync(
      "npm",
      ["publish", tarball, "--registry", registry.url, "--userconfig", userconfig, "--loglevel=error"],
      { encoding: "utf8" },
    );
    if (result.error || result.status !== 0) {
      const output = `${result.stdout ?? ""}\n${result.stderr ?? ""}`.trim().split("\n").slice(-8).join("\n");
      throw new ReleaseError("PUBLISH_FAILED", `npm could not publish ${tarball} to ${registry.url}:\n${output}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
