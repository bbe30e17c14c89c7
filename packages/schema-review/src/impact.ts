import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { isObject } from "@kronos/catalog";
import { parse as parseYaml } from "yaml";

/** A package of the pnpm workspace. */
export interface WorkspacePackage {
  name: string;
  /** Folder relative to the workspace root, e.g. `apps/relay`. */
  dir: string;
  version: string;
  /** Names of the workspace packages it depends on (any dependency kind). */
  dependsOn: string[];
  /** The domain it generates (`kronos-schemas generate --domain <d>` in its scripts), or null. */
  generatesDomain: string | null;
}

/** Who depends on a package: directly, or through other workspace packages. */
export interface Dependents {
  direct: string[];
  indirect: string[];
}

/** The workspace packages and their dependency edges, read from pnpm-workspace.yaml and each package.json. */
export class WorkspaceGraph {
  readonly root: string;
  readonly packages: WorkspacePackage[];

  private constructor(root: string, packages: WorkspacePackage[]) {
    this.root = root;
    this.packages = packages;
  }

  /** Reads the workspace at `root`; an empty graph when there is no pnpm-workspace.yaml. */
  static read(root: string): WorkspaceGraph {
    const file = join(root, "pnpm-workspace.yaml");
    if (!existsSync(file)) return new WorkspaceGraph(root, []);
    const config: unknown = parseYaml(readFileSync(file, "utf8"));
    const patterns = isObject(config) && Array.isArray(config.packages) ? config.packages.map(String) : [];
    const dirs = new Set<string>();
    for (const pattern of patterns) {
      if (pattern.startsWith("!")) continue;
      if (pattern.endsWith("/*")) {
        const parent = join(root, pattern.slice(0, -2));
        if (!existsSync(parent)) continue;
        for (const entry of readdirSync(parent, { withFileTypes: true })) {
          if (entry.isDirectory()) dirs.add(join(parent, entry.name));
        }
      } else {
        dirs.add(join(root, pattern));
      }
    }
    const raw = [...dirs]
      .filter((dir) => existsSync(join(dir, "package.json")))
      .map((dir) => ({
        dir,
        json: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Record<string, unknown>,
      }));
    const names = new Set(raw.map((p) => String(p.json.name)));
    const packages = raw
      .map(({ dir, json }) => {
        const deps = ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"].flatMap((kind) =>
          isObject(json[kind]) ? Object.keys(json[kind] as object) : [],
        );
        const scripts = isObject(json.scripts) ? Object.values(json.scripts).map(String) : [];
        const domain = scripts.map((s) => /kronos-schemas generate --domain (\S+)/.exec(s)?.[1]).find(Boolean);
        return {
          name: String(json.name),
          dir: relative(root, dir).split("\\").join("/"),
          version: typeof json.version === "string" ? json.version : "0.0.0",
          dependsOn: [...new Set(deps.filter((d) => names.has(d)))].sort(),
          generatesDomain: domain ?? null,
        };
      })
      .sort((a, b) => a.dir.localeCompare(b.dir));
    return new WorkspaceGraph(root, packages);
  }

  /** The generated package of a domain (`@kronos/events-<domain>`), or undefined when the workspace has none. */
  eventsPackage(domain: string): WorkspacePackage | undefined {
    return (
      this.packages.find((p) => p.generatesDomain === domain) ??
      this.packages.find((p) => p.name === `@kronos/events-${domain}`)
    );
  }

  /** Workspace packages that depend on `name` directly, and those that depend on it only through others. */
  dependents(name: string): Dependents {
    const direct = this.packages.filter((p) => p.dependsOn.includes(name)).map((p) => p.name);
    const all = new Set(direct);
    const queue = [...direct];
    while (queue.length > 0) {
      const current = queue.shift() as string;
      for (const p of this.packages) {
        if (p.dependsOn.includes(current) && !all.has(p.name) && p.name !== name) {
          all.add(p.name);
          queue.push(p.name);
        }
      }
    }
    return { direct: direct.sort(), indirect: [...all].filter((n) => !direct.includes(n)).sort() };
  }

  /** The folder of a package, relative to the root. */
  dirOf(name: string): string | undefined {
    return this.packages.find((p) => p.name === name)?.dir;
  }
}
