import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { CodegenError } from "./errors.js";
import { runGenerate } from "./run.js";

const USAGE = `Usage: kronos-codegen --schemas <dir> --out <dir> [options]

Generates TypeScript from the .avsc files under --schemas into --out (replaced as a whole).

Options:
  --schemas <dir>        folder of .avsc files (required)
  --out <dir>            output folder (required; holds only generated files)
  --bindings <file>      JSON object: event full name -> binding for its descriptor
  --not-event <name>     a top-level record that is not an event (repeatable), e.g. a shared header
  --source-root <path>   schema folder as written in headers and @see lines (default "schemas")
  --help                 this text`;

/** Where {@link main} reports: by default the process's stdout and stderr. */
export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}

const processOutput: CliOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/**
 * The `kronos-codegen` command: parses `argv` (without the node and script paths), runs {@link runGenerate} and
 * reports to `output`. Returns the exit code: 0 done, 1 a schema or output error (nothing written), 2 bad usage.
 */
export async function main(argv: readonly string[], output: CliOutput = processOutput): Promise<number> {
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(argv).values;
  } catch (err) {
    output.err(`kronos-codegen: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    output.out(`${USAGE}\n`);
    return 0;
  }
  if (!values.schemas || !values.out) {
    output.err(`kronos-codegen: --schemas and --out are required\n\n${USAGE}\n`);
    return 2;
  }
  try {
    const bindings = values.bindings
      ? (JSON.parse(await readFile(values.bindings, "utf8")) as Record<string, unknown>)
      : undefined;
    const notEvents = new Set(values["not-event"] ?? []);
    const result = await runGenerate({
      schemasDir: values.schemas,
      outDir: values.out,
      ...(bindings === undefined ? {} : { bindings }),
      isEvent: (fullName) => !notEvents.has(fullName),
      ...(values["source-root"] === undefined ? {} : { sourceRoot: values["source-root"] }),
    });
    output.out(
      `kronos-codegen: wrote ${result.written.length} files to ${values.out}` +
        (result.removed.length ? `, removed ${result.removed.length} stale` : "") +
        "\n",
    );
    return 0;
  } catch (err) {
    if (err instanceof CodegenError) {
      output.err(`kronos-codegen: ${err.message}\nNothing was written.\n`);
      return 1;
    }
    output.err(`kronos-codegen: ${(err as Error).message}\nNothing was written.\n`);
    return 1;
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: {
      schemas: { type: "string" },
      out: { type: "string" },
      bindings: { type: "string" },
      "not-event": { type: "string", multiple: true },
      "source-root": { type: "string" },
      help: { type: "boolean" },
    },
    strict: true,
    allowPositionals: false,
  });
}

// Run directly (`tsx src/cli.ts`, used by this package's `generate` script); the bin imports main instead.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  process.exitCode = await main(process.argv.slice(2));
}
