import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { ReleaseError } from "./errors.js";

/** A packed package: the tarball and the files in it (paths relative to the package). */
export interface Packed {
  readonly name: string;
  readonly version: string;
  readonly tarball: string;
  readonly files: readonly string[];
}

/**
 * Packs the package in `dir` into `destination` with pnpm, which rewrites `workspace:` and `catalog:` specifiers
 * to the versions they stand for (npm would publish them as they are, and nobody could install the package).
 */
export function pack(dir: string, destination: string): Packed {
  const result = spawnSync("pnpm", ["pack", "--pack-destination", destination, "--json"], {
    cwd: dir,
    encoding: "utf8",
  });
  if (result.error || result.status !== 0) {
    const output = `${result.stdout ?? ""}\n${result.stderr ?? ""}`.trim().split("\n").slice(-8).join("\n");
    throw new ReleaseError("PACK_FAILED", `pnpm could not pack ${dir}:\n${output}`);
  }
  const json = JSON.parse(result.stdout) as {
    name: string;
    version: string;
    filename: string;
    files: { path: string }[];
  };
  return { name: json.name, version: json.version, tarball: json.filename, files: json.files.map((f) => f.path) };
}

/**
 * What is wrong with a package's contents (empty when nothing): test files, a package without its compiled entry
 * point, source maps whose sources are not in the package (they would point at files a user does not have).
 * `read` reads a packed file (relative to the package).
 */
export function contentProblems(files: readonly string[], read: (path: string) => string): string[] {
  const problems: string[] = [];
  const inside = new Set(files.map((file) => normalize(file)));
  const isTest = (file: string) =>
    /(^|\/)(test|tests|__tests__)\//.test(file) || /\.(test|spec)\.[cm]?[jt]s(\.map)?$/.test(file);
  for (const file of files.filter(isTest)) problems.push(`${file} is a test file`);
  if (!files.includes("package.json")) problems.push("package.json is missing");
  if (!files.some((file) => file.startsWith("dist/") && file.endsWith(".js") && !isTest(file))) {
    problems.push("there is no compiled code (dist/*.js): build the package before packing it");
  }
  for (const file of files.filter((f) => f.endsWith(".map"))) {
    let sources: string[];
    try {
      const map = JSON.parse(read(file)) as { sources?: string[]; sourceRoot?: string };
      sources = (map.sources ?? []).map((source) => join(dirname(file), map.sourceRoot ?? "", source));
    } catch {
      problems.push(`${file} is not a readable source map`);
      continue;
    }
    for (const source of sources) {
      const path = normalize(source);
      if (path.startsWith("..") || !inside.has(path))
        problems.push(`${file} points at ${path}, which is not in the package`);
    }
  }
  return problems;
}

/** Checks what `pack` put in `packed` (files read from the package folder `dir`); throws BAD_CONTENTS listing it all. */
export function checkContents(dir: string, packed: Packed): void {
  const problems = contentProblems(packed.files, (path) => readFileSync(join(dir, path), "utf8"));
  if (problems.length > 0) {
    throw new ReleaseError(
      "BAD_CONTENTS",
      `${packed.name}@${packed.version} would be published with:\n  - ${problems.join("\n  - ")}\nFix its "files" in package.json.`,
    );
  }
}
