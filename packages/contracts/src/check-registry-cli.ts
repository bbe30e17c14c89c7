import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { isContractError, isRegistryAccessError } from "./errors.js";
import { checkAgainstRegistry, installedEventsPackages } from "./registry-check.js";
import { ConfluentRegistryClient, DEFAULT_REGISTRY_URL } from "./registry-client.js";
import { registrySettingsFromEnv } from "./registry-settings.js";

export const CHECK_REGISTRY_USAGE = `kronos-check-registry: can this project's installed event packages read what the registry has?

Usage: kronos-check-registry [--dir <project>] [--registry <url>] [--json]

For every event of every @kronos/events-* package the project depends on, compares the installed schema with the
latest version of its subject in the schema registry: readable when the installed schema can read what that version
writes. Prints the version each package was released against, the registry's latest, and what to do otherwise.

Options:
  --dir <project>     the project folder (its package.json and node_modules); default the current folder
  --registry <url>    Confluent-compatible registry API (default $SCHEMA_REGISTRY_URL, then ${DEFAULT_REGISTRY_URL});
                      credentials and CA from SCHEMA_REGISTRY_USERNAME/_PASSWORD[_FILE], SCHEMA_REGISTRY_TOKEN[_FILE],
                      SCHEMA_REGISTRY_CA_FILE
  --json              print the result as JSON
  -h, --help          this text

Exit codes: 0 every event readable, 1 some are not (or not registered), 2 bad usage or registry unreachable.`;

/** Runs the check with `argv` (without node and the script); resolves with the exit code. */
export async function checkRegistryMain(
  argv: readonly string[],
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error,
): Promise<number> {
  let values: { dir?: string; registry?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        dir: { type: "string" },
        registry: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    err(`kronos-check-registry: ${(error as Error).message}\n\n${CHECK_REGISTRY_USAGE}`);
    return 2;
  }
  if (values.help) {
    out(CHECK_REGISTRY_USAGE);
    return 0;
  }
  const dir = resolve(values.dir ?? ".");
  let client: ConfluentRegistryClient;
  try {
    client = new ConfluentRegistryClient(registrySettingsFromEnv(process.env, values.registry));
  } catch (error) {
    err(`kronos-check-registry: ${(error as Error).message}`);
    return 2;
  }
  try {
    const packages = await installedEventsPackages(dir);
    if (packages.length === 0) {
      err(`kronos-check-registry: ${dir}/package.json depends on no @kronos/events-* package`);
      return 2;
    }
    const checks = await checkAgainstRegistry(packages, client);
    if (values.json) out(JSON.stringify(checks, null, 2));
    else {
      for (const check of checks) {
        const versions = `released against v${check.pinned ?? "?"}, registry latest v${check.latest ?? "—"}`;
        out(`${check.readable ? "✔" : "✖"} ${check.event} (${check.package}): ${versions}`);
        if (check.problem !== undefined) out(`    ${check.problem}`);
      }
    }
    return checks.every((check) => check.readable) ? 0 : 1;
  } catch (error) {
    if (isContractError(error, "REGISTRY_UNAVAILABLE") || isRegistryAccessError(error)) {
      err(`kronos-check-registry: ${(error as Error).message}`);
      return 2;
    }
    throw error;
  }
}
