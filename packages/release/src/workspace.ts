import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** A workspace package that is published (its package.json is not `"private": true`). */
export interface PublishablePackage {
  readonly name: string;
  readonly version: string;
  /** Absolute folder. */
  readonly dir: string;
  /** The publishable packages it depends on at run time (names). */
  readonly dependsOn: readonly string[];
}

interface Manifest {
  name?: string;
  version?: string;
  private?: boolean;
  dependencies?: Record<string, string>;
}

/** Reads a package.json. */
export function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
}

/**
 * The publishable packages under `<root>/packages`, each after the publishable packages it depends on (so a
 * release publishes `@kronos/contracts` before the event packages that need it).
 */
export function publishablePackages(root: string): PublishablePackage[] {
  const folder = join(root, "packages");
  const found = readdirSync(folder)
    .map((entry) => join(folder, entry))
    .filter((dir) => existsSync(join(dir, "package.json")))
    .map((dir) => ({ dir, manifest: readManifest(dir) }))
    .filter(({ manifest }) => manifest.private !== true && manifest.name !== undefined);
  const names = new Set(found.map(({ manifest }) => manifest.name as string));
  const packages = new Map(
    found.map(({ dir, manifest }) => [
      manifest.name as string,
      {
        name: manifest.name as string,
        version: manifest.version ?? "0.0.0",
        dir,
        dependsOn: Object.keys(manifest.dependencies ?? {}).filter((name) => names.has(name)),
      },
    ]),
  );
  const ordered: PublishablePackage[] = [];
  const placed = new Set<string>();
  const place = (name: string, path: readonly string[]) => {
    if (placed.has(name)) return;
    if (path.includes(name))
      throw new Error(`the packages depend on each other in a cycle: ${[...path, name].join(" → ")}`);
    const pkg = packages.get(name);
    if (pkg === undefined) return;
    for (const dependency of pkg.dependsOn) place(dependency, [...path, name]);
    placed.add(name);
    ordered.push(pkg);
  };
  for (const name of [...packages.keys()].sort()) place(name, []);
  return ordered;
}
