import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { CatalogError, formatIssue, loadCatalog } from "@kronos/catalog";
import { CodegenError } from "@kronos/codegen";
import {
  checkRegistryMain,
  DEFAULT_REGISTRY_URL,
  isContractError,
  isRegistryAccessError,
  registrySettingsFromEnv,
} from "@kronos/contracts";
import { ReviewError, renderJson, renderMarkdown, runReview } from "@kronos/schema-review";
import { generateDomain } from "./generate.js";
import { findSchemasDir } from "./paths.js";
import { registerCatalog } from "./register.js";

const USAGE = `kronos-schemas: the Kronos event catalog's command

Usage: kronos-schemas <command> [options]

Commands:
  validate                  Check every schema and the manifest (schemas/asyncapi.yaml); no registry needed.
  generate --domain <d> --out <dir>
                            Generate the TypeScript of one domain (its events and the shared types they use).
  register [--registry <url>]
                            Register every event's schema under each of its subjects (x-kronos-subject-naming:
                            the record name, or one per Kafka topic) and set each subject's compatibility from
                            the manifest. Idempotent.
  review --base <git ref> [--registry <url>] [--json] [--write]
                            Review the schemas and manifest of the working tree against the base ref: the diff
                            in Avro terms, the verdict under each subject's compatibility mode with reasons, lint,
                            consumer impact and version bumps, as Markdown (or JSON with --json). --registry also
                            compares with the registered versions and the registry's own verdict; --write sets
                            the generated packages' versions. Exit 0 nothing breaks, 1 a break or a lint error,
                            2 it could not run (bad ref, unparsable schema, unreachable registry).
  check-registry [--dir <project>] [--registry <url>] [--json]
                            In a service: can its installed @kronos/events-* packages read the registry's
                            latest version of each of their events? Shows the version each was released
                            against (the same as kronos-check-registry from @kronos/contracts).
  help                      This text.

Options:
  --schemas <dir>           The schemas folder (default: schemas/ of the enclosing workspace).
  --registry <url>          Confluent-compatible registry API (default $SCHEMA_REGISTRY_URL, then
                            ${DEFAULT_REGISTRY_URL}); for review, only when given. Credentials and CA
                            (register, check-registry): SCHEMA_REGISTRY_USERNAME + SCHEMA_REGISTRY_PASSWORD[_FILE]
                            or SCHEMA_REGISTRY_TOKEN[_FILE], SCHEMA_REGISTRY_CA_FILE.
  --base <git ref>          review: the base to compare with (branch, tag or commit).
  --json                    review: print the report as JSON.
  --write                   review: update the generated packages' versions to the bumps the review needs.

Exit codes: 0 done, 1 the catalog or a schema is invalid or the registry refused a schema, 2 bad usage or the
registry cannot be reached.`;

/** Where the CLI prints; tests pass their own. */
export interface CliOutput {
  out: (line: string) => void;
  err: (line: string) => void;
}

const console_: CliOutput = { out: (line) => console.log(line), err: (line) => console.error(line) };

/**
 * Runs `kronos-schemas` with `argv` (without the node and script paths).
 * @returns the exit code: 0 done, 1 invalid catalog or refused schema, 2 bad usage or registry unreachable
 */
export async function main(argv: readonly string[], output: CliOutput = console_): Promise<number> {
  // check-registry takes its own options (it is the same command as @kronos/contracts' kronos-check-registry).
  if (argv[0] === "check-registry") return checkRegistryMain(argv.slice(1), output.out, output.err);
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    output.err(`kronos-schemas: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { command, values } = parsed;
  const schemasDir = values.schemas ? resolve(values.schemas) : findSchemasDir();
  try {
    switch (command) {
      case "validate": {
        const catalog = await loadCatalog(schemasDir);
        output.out(
          `kronos-schemas: ${catalog.events.length} events, ${catalog.types.length} types and ` +
            `${catalog.destinations.length} destinations in ${schemasDir}: valid`,
        );
        return 0;
      }
      case "generate": {
        if (!values.domain || !values.out) throw new UsageError("generate needs --domain <d> and --out <dir>");
        const result = await generateDomain({ schemasDir, domain: values.domain, outDir: resolve(values.out) });
        output.out(`kronos-schemas: generated ${result.written.length} files for "${values.domain}" in ${values.out}`);
        return 0;
      }
      case "register": {
        // SCHEMA_REGISTRY_URL and its credentials and CA; --registry replaces the URL. The URL shown has no userinfo.
        const registry = registrySettingsFromEnv(process.env, values.registry);
        const catalog = await loadCatalog(schemasDir);
        const subjects = catalog.events.reduce((n, event) => n + event.subjects.length, 0);
        output.out(
          `kronos-schemas: registering ${catalog.events.length} events under ${subjects} subjects at ${registry.url}`,
        );
        await registerCatalog(catalog, registry, (done, index, total) =>
          output.out(
            `  [${index + 1}/${total}] ${done.subject}${done.subject === done.event ? "" : ` (${done.event})`} → id ${done.id} (${done.compatibility})`,
          ),
        );
        return 0;
      }
      case "review": {
        if (!values.base) throw new UsageError("review needs --base <git ref>");
        const review = await runReview({
          schemasDir,
          base: values.base,
          registry: values.registry,
          write: values.write === true,
        });
        output.out((values.json ? renderJson(review) : renderMarkdown(review)).trimEnd());
        return review.summary.exitCode;
      }
      case undefined:
      case "help":
        output.out(USAGE);
        return 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    return report(error, output);
  }
}

class UsageError extends Error {}

function parse(argv: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      schemas: { type: "string" },
      domain: { type: "string" },
      out: { type: "string" },
      registry: { type: "string" },
      base: { type: "string" },
      json: { type: "boolean" },
      write: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  return { command: values.help ? "help" : positionals[0], values };
}

function report(error: unknown, output: CliOutput): number {
  if (error instanceof UsageError) {
    output.err(`kronos-schemas: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (error instanceof ReviewError) {
    output.err(`kronos-schemas: review could not run (${error.code}): ${error.message}`);
    return 2;
  }
  if (error instanceof CatalogError) {
    output.err(`kronos-schemas: the catalog is invalid (${error.issues.length} problems):`);
    for (const issue of error.issues) output.err(`  ${formatIssue(issue)}`);
    return 1;
  }
  if (error instanceof CodegenError) {
    output.err(`kronos-schemas: ${error.message}`);
    return 1;
  }
  if (isContractError(error)) {
    output.err(`kronos-schemas: ${error.code}: ${error.message}`);
    // Could not use the registry at all (unreachable, refused credentials, untrusted certificate, bad settings): 2.
    return error.retriable || isRegistryAccessError(error) ? 2 : 1;
  }
  output.err(`kronos-schemas: ${(error as Error).message ?? String(error)}`);
  return 1;
}
