import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Semver bumps, from least to most. */
export type Bump = "none" | "patch" | "minor" | "major";

const ORDER: readonly Bump[] = ["none", "patch", "minor", "major"];

/** The larger of two bumps. */
export function maxBump(a: Bump, b: Bump): Bump {
  return ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b;
}

/**
 * `version` bumped by `bump` (`1.2.3` + minor = `1.3.0`); `none` returns it unchanged. Below 1.0.0 every bump moves
 * one place right, as npm's caret ranges read 0.x versions (`^0.1.0` is `>=0.1.0 <0.2.0`): a breaking change makes
 * `0.2.0` and a compatible one `0.1.1`, so `npm update` takes the compatible one and never the breaking one.
 * @throws Error when `version` is not `MAJOR.MINOR.PATCH` (a pre-release or build suffix is dropped).
 */
export function bumpVersion(version: string, bump: Bump): string {
  const match = /^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(version);
  if (!match) throw new Error(`"${version}" is not a semver version`);
  const [major, minor, patch] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (major === 0 && bump !== "none") return bump === "major" ? `0.${minor + 1}.0` : `0.${minor}.${patch + 1}`;
  if (bump === "major") return `${major + 1}.0.0`;
  if (bump === "minor") return `${major}.${minor + 1}.0`;
  if (bump === "patch") return `${major}.${minor}.${patch + 1}`;
  return version;
}

/**
 * The part of `version` a caret range keeps fixed: the major from 1.0.0 on (`"2"`), the minor below it (`"0.3"`). A
 * release that breaks compatibility must change it, or `^<previous>` would install it.
 */
export function caretLine(version: string): string {
  const [major, minor] = version.split(/[.+-]/);
  return major === "0" ? `0.${minor}` : String(major);
}

/** Compares two `MAJOR.MINOR.PATCH` versions: negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).slice(0, 3).map(Number);
  const pb = b.split(/[.+-]/).slice(0, 3).map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Sets `version` in `<root>/<dir>/package.json` to `next`, keeping the rest of the file (2-space JSON) as is.
 * @returns true when the file changed
 */
export function writeVersion(root: string, dir: string, next: string): boolean {
  const file = join(root, dir, "package.json");
  const text = readFileSync(file, "utf8");
  const updated = text.replace(/("version"\s*:\s*")[^"]*(")/, `$1${next}$2`);
  if (updated === text) return false;
  writeFileSync(file, updated);
  return true;
}
