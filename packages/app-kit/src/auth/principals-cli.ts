import { parseArgs } from "node:util";
import type { Env } from "../config.js";
import { RIGHTS } from "./acl.js";
import {
  addPrincipal,
  type ListedPrincipal,
  listPrincipals,
  PrincipalsError,
  principalsFilePath,
  revokePrincipal,
} from "./principals.js";

/** Where {@link runPrincipalsCli} reads its environment and writes. */
export interface CliIo {
  readonly env: Env;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** What names an app's principals CLI: its program, how to run it, its variables' prefix, a URL to try a key. */
export interface PrincipalsCliOptions {
  /** The program's name, in its messages: `kronos-gateway-principals`. */
  readonly program: string;
  /** How to run it from the repository root (the packages are private: no global bin). */
  readonly invocation: string;
  /** The app's variables' prefix: `--file` defaults to `$<prefix>_PRINCIPALS_FILE`. */
  readonly envPrefix: string;
  /** A URL to try a key against, in the text printed after `add`: `http://127.0.0.1:3000/whoami`. */
  readonly exampleUrl: string;
}

const RIGHTS_HELP = Object.entries(RIGHTS)
  .map(([name, right]) => `                    ${(right.scoped ? `${name}:<glob>` : name).padEnd(17)}${right.allows}`)
  .join("\n");

/** The CLI's help text. */
export function principalsCliUsage(options: PrincipalsCliOptions): string {
  return `Usage: ${options.program} <command> [options]

Manages the API-key principals of the Kronos apps (gateway, relay, dlq-manager). Keys are stored hashed
(SHA-256); the apps re-read the file when it changes, so additions and revocations count from the next request,
without a restart.

Commands:
  add <id> --acl <right> [--acl <right>...] [--if-missing] [--json]
                  Adds a principal and prints its API key ONCE (it cannot be shown again).
                  --if-missing: when <id> already exists, says so and exits 0 instead of failing.
  list [--json]   Lists the principals: id, rights, created, revoked. Never a key.
  revoke <id>     Revokes a principal: its key is refused (401) from the next request on.
  help            This text.

Options:
  --file <path>   The principals file. Default: $${options.envPrefix}_PRINCIPALS_FILE, else
                  $XDG_CONFIG_HOME/kronos/principals.json (~/.config/kronos/principals.json).
  --acl <rights>  One right, or several separated by commas. Rights:
${RIGHTS_HELP}
                  In a glob, * matches any characters (dots included) and ? exactly one.

Use a key:  curl -H "X-API-Key: <key>" ${options.exampleUrl}   (or "Authorization: ApiKey <key>")
Exit codes: 0 done, 1 failed (invalid rights, existing or unknown id, unreadable file), 2 bad usage.`;
}

function describe(p: ListedPrincipal): string {
  const state = p.revokedAt === null ? "active" : `revoked ${p.revokedAt}`;
  return `${p.id}\t${state}\tcreated ${p.created}\t${p.acl.join(",") || "(no rights)"}`;
}

/** Runs the CLI with `argv` (the arguments after the program name); returns the exit code. */
export type PrincipalsCli = (argv: readonly string[], io?: CliIo) => number;

/**
 * An app's principals CLI (`add`, `list`, `revoke`; see {@link principalsCliUsage}): a function of `argv` (the
 * arguments after the program name) returning the exit code: 0 done, 1 failed, 2 bad usage. Errors go to
 * `io.stderr` as one sentence, never a stack trace. An app's `bin/` is then two lines.
 */
export function createPrincipalsCli(options: PrincipalsCliOptions): PrincipalsCli {
  return (argv, io) => runPrincipalsCli(options, argv, io);
}

function runPrincipalsCli(
  options: PrincipalsCliOptions,
  argv: readonly string[],
  io: CliIo = {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  },
): number {
  const helpText = principalsCliUsage(options);
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.stderr(`${(error as Error).message}\n\n${helpText}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...args] = positionals;
  if (values.help || command === undefined || command === "help") {
    io.stdout(`${helpText}\n`);
    return 0;
  }
  const file = values.file ?? principalsFilePath(io.env, options.envPrefix);
  const usage = (message: string) => {
    io.stderr(`${message}\n\n${helpText}\n`);
    return 2;
  };
  try {
    switch (command) {
      case "add": {
        if (args.length !== 1) return usage("add takes exactly one <id>");
        const id = args[0] as string;
        const acl = (values.acl ?? [])
          .flatMap((a) => a.split(","))
          .map((a) => a.trim())
          .filter((a) => a !== "");
        if (acl.length === 0) return usage("add needs at least one --acl <right>");
        if (values["if-missing"]) {
          const existing = listPrincipals(file).find((p) => p.id === id);
          if (existing !== undefined) {
            if (values.json) io.stdout(`${JSON.stringify({ ...existing, key: null })}\n`);
            else {
              io.stdout(
                `Principal "${id}" already exists in ${file} (${existing.revokedAt === null ? "active" : `revoked ${existing.revokedAt}`}); ` +
                  "its key was shown once, when it was created.\n" +
                  `Lost it? Revoke it (${options.invocation} revoke ${id}) and add a principal with a new id:\n` +
                  `  ${options.invocation} add <new-id> --acl ${existing.acl.join(",")}\n`,
              );
            }
            return 0;
          }
        }
        const { principal, key } = addPrincipal(file, { id, acl });
        if (values.json) io.stdout(`${JSON.stringify({ ...principal, key })}\n`);
        else {
          io.stdout(
            `Added principal "${principal.id}" to ${file} with rights ${principal.acl.join(", ")}.\n` +
              "Its API key, shown this once (store it now; only its hash is kept):\n\n" +
              `  ${key}\n\n` +
              'Send it as "X-API-Key: <key>" or "Authorization: ApiKey <key>", e.g.\n' +
              `  curl -H "X-API-Key: <key>" ${options.exampleUrl}\n`,
          );
        }
        return 0;
      }
      case "list": {
        if (args.length !== 0) return usage("list takes no arguments");
        const principals = listPrincipals(file);
        if (values.json) io.stdout(`${JSON.stringify(principals)}\n`);
        else if (principals.length === 0) io.stdout(`No principals in ${file}\n`);
        else io.stdout(`${principals.map(describe).join("\n")}\n`);
        return 0;
      }
      case "revoke": {
        if (args.length !== 1) return usage("revoke takes exactly one <id>");
        const principal = revokePrincipal(file, args[0] as string);
        io.stdout(`Revoked principal "${principal.id}" (at ${principal.revokedAt}); its key is refused from now on.\n`);
        return 0;
      }
      default:
        return usage(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof PrincipalsError) {
      io.stderr(`${options.program}: ${error.message}\n`);
      return 1;
    }
    const e = error as NodeJS.ErrnoException;
    io.stderr(`${options.program}: cannot use ${file}: ${e.code ?? e.message}\n`);
    return 1;
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      acl: { type: "string", multiple: true },
      file: { type: "string" },
      json: { type: "boolean" },
      "if-missing": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}
