import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { caretLine, compareVersions, type Review, runReview } from "@kronos/schema-review";
import { changelogEntry, type EventChanges, prependChangelog } from "./changelog.js";
import { ReleaseError } from "./errors.js";
import { type NpmRegistry, npmPublish, publishedVersions } from "./npm-registry.js";
import { checkContents, type Packed, pack } from "./pack.js";
import { registerSchemas, writePins } from "./pins.js";
import { type PublishablePackage, publishablePackages } from "./workspace.js";

/** What to release. */
export interface ReleaseOptions {
  /** The workspace root. */
  readonly root: string;
  readonly registry: NpmRegistry;
  /** The schema registry the catalog is registered in and the packages' events are pinned to. */
  readonly schemaRegistry: string;
  /** A git ref: schema review against it sets the versions (`review --write`) and writes the changelogs. */
  readonly base?: string | undefined;
  /** Build, pack and check what would be published, and print it; write no version or changelog, publish nothing. */
  readonly dryRun?: boolean | undefined;
  /** Build the packages first (default true). */
  readonly build?: boolean | undefined;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** One package in the release plan. */
export interface PlannedPackage {
  readonly name: string;
  readonly dir: string;
  readonly version: string;
  /** The newest version in the registry, if any. */
  readonly latest: string | undefined;
  readonly action: "publish" | "already-published";
  /** From schema review (with a base): the bump and the events' changes. */
  readonly bump: string | undefined;
  readonly events: readonly EventChanges[];
}

/** What a release did (or, dry, would do). */
export interface ReleaseResult {
  readonly dryRun: boolean;
  readonly packages: readonly PlannedPackage[];
  readonly published: readonly string[];
}

/**
 * The planned publications that break compatibility (schema review's bump is major) without a new major version
 * above the registry's newest (below 1.0.0, a new minor: see `caretLine`): a consumer on `^<latest>` would get a
 * version it cannot read.
 */
export function notMajor(plan: readonly PlannedPackage[]): PlannedPackage[] {
  return plan.filter(
    (p) =>
      p.action === "publish" &&
      p.bump === "major" &&
      p.latest !== undefined &&
      (caretLine(p.version) === caretLine(p.latest) || compareVersions(p.version, p.latest) <= 0),
  );
}

/** The newest of `versions` (semver order, prereleases after their release's predecessors: enough here). */
function newest(versions: readonly string[]): string | undefined {
  const key = (v: string) => v.split(/[.-]/).slice(0, 3).map(Number);
  return [...versions].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
    return 0;
  })[versions.length - 1];
}

function eventChanges(review: Review, events: readonly string[]): EventChanges[] {
  return review.events
    .filter((event) => events.includes(event.name))
    .map((event) => ({
      event: event.name,
      status: event.status,
      breaking: event.breaking,
      lines: [...event.changes.map((change) => change.description), ...event.reasons],
    }));
}

/**
 * Releases the workspace's publishable packages: every one whose version is not in the registry yet is built,
 * packed by pnpm (workspace and catalog specifiers rewritten), checked (no test files, source maps inside the
 * package) and published; one whose version is there already is left alone (a release can be run again). With
 * `base`, schema review sets the versions first and each published package gets a changelog entry naming its
 * schema changes; a package whose schemas broke compatibility must be a new major version, or nothing is published.
 */
export async function release(options: ReleaseOptions): Promise<ReleaseResult> {
  const log = options.log ?? (() => undefined);
  const dryRun = options.dryRun === true;
  let review: Review | undefined;
  if (options.base !== undefined) {
    log(`schema review against ${options.base}${dryRun ? "" : " (setting the versions it computes)"}`);
    review = await runReview({ schemasDir: join(options.root, "schemas"), base: options.base, write: !dryRun });
  }
  const plan: PlannedPackage[] = [];
  for (const pkg of publishablePackages(options.root)) {
    plan.push(await planPackage(pkg, options.registry, review, dryRun));
  }
  const refused = notMajor(plan);
  if (refused.length > 0) {
    throw new ReleaseError(
      "NOT_MAJOR",
      refused
        .map(
          (p) =>
            `**${p.name} breaks compatibility**: it must be published as a new major version (after ${p.latest}), not ${p.version}. ` +
            `Run the release with --base <the last release's ref> so schema review sets the version, or set it by hand.`,
        )
        .join("\n"),
    );
  }
  for (const p of plan) {
    const breaking = p.events.some((event) => event.breaking);
    const what =
      p.action === "publish" ? (dryRun ? "would publish" : "publishing") : "already in the registry, left alone:";
    log(
      `${what} ${p.name}@${p.version}${p.latest ? ` (registry has ${p.latest})` : " (first release)"}${breaking ? " — **BREAKING: new major version**" : ""}`,
    );
  }
  const toPublish = plan.filter((p) => p.action === "publish");
  if (toPublish.length === 0) return { dryRun, packages: plan, published: [] };

  if (options.build !== false) {
    log(`building ${toPublish.map((p) => p.name).join(", ")}`);
    const build = spawnSync(
      "pnpm",
      ["turbo", "run", "build", ...toPublish.map((p) => `--filter=${p.name}`), "--output-logs=errors-only"],
      { cwd: options.root, stdio: "inherit" },
    );
    if (build.status !== 0)
      throw new ReleaseError("BUILD_FAILED", "the build failed (see above): nothing was published");
  }
  if (!dryRun) {
    const subjects = await registerSchemas(options.root, options.schemaRegistry);
    log(`registered the catalog in ${options.schemaRegistry} (${subjects} subjects, idempotent)`);
  }
  const destination = mkdtempSync(join(tmpdir(), "kronos-release-packs-"));
  const published: string[] = [];
  try {
    // Everything is packed and checked before anything is published: one bad package stops the whole release.
    const packs: Packed[] = [];
    for (const p of toPublish) {
      if (review !== undefined && !dryRun) {
        prependChangelog(p.dir, p.name, changelogEntry(p.version, new Date().toISOString().slice(0, 10), p.events));
      }
      if (!dryRun && p.name.startsWith("@kronos/events-")) await writePins(p.dir, options.schemaRegistry);
      const packed = pack(p.dir, destination);
      checkContents(p.dir, packed);
      log(`  ${packed.name}@${packed.version}: ${packed.files.length} files, contents checked`);
      packs.push(packed);
    }
    if (dryRun) return { dryRun, packages: plan, published: [] };
    for (const packed of packs) {
      npmPublish(options.registry, packed.tarball);
      published.push(`${packed.name}@${packed.version}`);
      log(`published ${packed.name}@${packed.version}`);
    }
  } finally {
    rmSync(destination, { recursive: true, force: true });
  }
  return { dryRun, packages: plan, published };
}

async function planPackage(
  pkg: PublishablePackage,
  registry: NpmRegistry,
  review: Review | undefined,
  dryRun: boolean,
): Promise<PlannedPackage> {
  const impact = review?.packages.find((p) => p.name === pkg.name);
  // After `review --write` package.json holds the new version; a dry run uses the one review computed.
  const written = JSON.parse(readFileSync(join(pkg.dir, "package.json"), "utf8")) as { version: string };
  const version = dryRun && impact?.next && !impact.upToDate ? impact.next : written.version;
  const versions = await publishedVersions(registry, pkg.name);
  return {
    name: pkg.name,
    dir: pkg.dir,
    version,
    latest: newest(versions),
    action: versions.includes(version) ? "already-published" : "publish",
    bump: impact?.bump,
    events: review && impact ? eventChanges(review, impact.events) : [],
  };
}
