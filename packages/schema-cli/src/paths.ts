import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/**
 * The `schemas/` folder of the repository that holds `from` (default: the working directory): the nearest
 * ancestor with a `pnpm-workspace.yaml`, joined with `schemas`. Event packages run the CLI from their own folder.
 */
export function findSchemasDir(from = process.cwd()): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return join(dir, "schemas");
    const parent = dirname(dir);
    if (parent === dir) return join(resolve(from), "schemas");
    dir = parent;
  }
}
