import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_REGISTRY_URL, secretSetting } from "@kronos/contracts";
import { ReleaseError } from "./errors.js";
import { registryUrl } from "./npm-registry.js";
import { release } from "./release.js";

/** The local stack's npm registry (Verdaccio), `npm run stack -- up` starts it. */
export const LOCAL_NPM_REGISTRY = `http://127.0.0.1:${process.env.KRONOS_NPM_REGISTRY_PORT || "4873"}/`;

const USAGE = `kronos-release: publish the typed event packages (and @kronos/contracts) to an npm registry

Usage: kronos-release [--registry <url>] [--schema-registry <url>] [--base <git ref>] [--dry-run] [--no-build]
       (from the repository root: npm run release -- [options])

Publishes every package of packages/ that is not private and whose version is not in the registry yet (built,
packed by pnpm with workspace and catalog versions written out, contents checked); a version already there is left
alone, so a release can be run again. With --base, schema review against that ref first sets the versions it
computes (review --write) and each published package's CHANGELOG.md gets an entry naming its schema changes; a
package whose schemas broke compatibility must be a new major version, or nothing is published. Before publishing,
the catalog is registered in the schema registry (idempotent) and each events package records the registered
version of each of its events (kronos-registry.json; kronos-check-registry reads it in a service).

Options:
  --registry <url>   the npm registry (default $KRONOS_NPM_REGISTRY_URL, then the local stack's ${LOCAL_NPM_REGISTRY});
                     a company registry (GitHub Packages, Artifactory, Nexus) works the same with NPM_TOKEN set
  --schema-registry <url>
                     the schema registry (default $SCHEMA_REGISTRY_URL, then the local stack's)
  --base <git ref>   the last release's ref: schema review sets versions and changelogs from the changes since
  --dry-run          print what would be published; change nothing
  --no-build         do not build the packages first (they are built already)
  -h, --help         this text

Environment:
  NPM_TOKEN               the registry's token (not needed for the local stack's registry); or NPM_TOKEN_FILE,
                          the path of a file holding it
  SCHEMA_REGISTRY_USERNAME, SCHEMA_REGISTRY_PASSWORD[_FILE], SCHEMA_REGISTRY_TOKEN[_FILE], SCHEMA_REGISTRY_CA_FILE
                          the schema registry's credentials and CA (see @kronos/contracts)
  KRONOS_NPM_REGISTRY_URL the default registry

Exit codes: 0 done (or nothing to publish), 1 the release was refused or failed (the message says why), 2 bad usage.`;

/** The workspace root: the nearest folder above `from` with a pnpm-workspace.yaml. */
function workspaceRoot(from: string): string {
  let dir = resolve(from);
  while (!existsSync(join(dir, "pnpm-workspace.yaml"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new ReleaseError("BAD_USAGE", "run kronos-release inside the Kronos workspace");
    dir = parent;
  }
  return dir;
}

/** Runs `kronos-release` with `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let values: {
    registry?: string;
    "schema-registry"?: string;
    base?: string;
    "dry-run"?: boolean;
    "no-build"?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: [...argv].filter((arg) => arg !== "--"),
      options: {
        registry: { type: "string" },
        "schema-registry": { type: "string" },
        base: { type: "string" },
        "dry-run": { type: "boolean" },
        "no-build": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    console.error(`kronos-release: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  try {
    const url = registryUrl(values.registry ?? (process.env.KRONOS_NPM_REGISTRY_URL || LOCAL_NPM_REGISTRY));
    // NPM_TOKEN, or the file NPM_TOKEN_FILE names (a Docker or Kubernetes secret): the one reader of *_FILE secrets.
    const { value: token, problem } = secretSetting(process.env, "NPM_TOKEN");
    if (problem !== undefined) throw new ReleaseError("BAD_USAGE", problem);
    const result = await release({
      root: workspaceRoot(process.cwd()),
      registry: { url, token },
      schemaRegistry: values["schema-registry"] ?? (process.env.SCHEMA_REGISTRY_URL || DEFAULT_REGISTRY_URL),
      base: values.base,
      dryRun: values["dry-run"],
      build: !values["no-build"],
      log: (line) => console.log(line),
    });
    const count = result.packages.filter((p) => p.action === "publish").length;
    if (result.dryRun) console.log(`\ndry run: ${count} package(s) would be published to ${url}; nothing changed`);
    else if (result.published.length === 0) console.log(`\nnothing to publish: every version is in ${url} already`);
    else console.log(`\n✔ published ${result.published.length} package(s) to ${url}`);
    return 0;
  } catch (error) {
    if (error instanceof ReleaseError) {
      console.error(`\n✖ ${error.message}`);
      return error.code === "BAD_USAGE" ? 2 : 1;
    }
    throw error;
  }
}
