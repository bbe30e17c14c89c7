import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { publishablePackages, readManifest } from "./workspace.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));

describe("the publishable packages", () => {
  const packages = publishablePackages(root);
  const names = packages.map((p) => p.name);

  it("are @kronos/contracts and every generated event package, contracts first", () => {
    expect(names[0]).toBe("@kronos/contracts");
    expect(names.slice(1)).toEqual(names.filter((name) => name.startsWith("@kronos/events-")));
    expect(names.length).toBeGreaterThanOrEqual(8);
  });

  it("declare what a registry and a user need, and depend on nothing unpublished", () => {
    for (const { dir, name } of packages) {
      const manifest = readManifest(dir) as Record<string, unknown> & {
        dependencies?: Record<string, string>;
        peerDependencies?: Record<string, string>;
        peerDependenciesMeta?: Record<string, { optional?: boolean }>;
        files?: string[];
      };
      expect(manifest.license, name).toBeTypeOf("string");
      expect(manifest.publishConfig, name).toEqual({ access: "restricted" });
      expect(manifest.files, name).toContain("dist");
      for (const [dependency, range] of Object.entries(manifest.dependencies ?? {})) {
        if (dependency.startsWith("@kronos/")) {
          expect(names, `${name} depends on ${dependency}`).toContain(dependency);
          expect(range, `${name} → ${dependency}`).toBe("workspace:^");
        }
      }
      // Peers are ranges (a user's newer vitest or fast-check must not make npm refuse), and optional.
      for (const [peer, range] of Object.entries(manifest.peerDependencies ?? {})) {
        expect(range, `${name} peer ${peer}`).toMatch(/\^|>=|\|\|/);
        expect(manifest.peerDependenciesMeta?.[peer]?.optional, `${name} peer ${peer}`).toBe(true);
      }
      expect(readFileSync(join(dir, "README.md"), "utf8").length, `${name} README`).toBeGreaterThan(100);
    }
  });
});
