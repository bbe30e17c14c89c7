import { relative, resolve } from "node:path";
import type { Compatibility, LintFinding } from "@kronos/catalog";
import { type RegistryConnectionOptions, registrySettingsFromEnv } from "@kronos/contracts";
import { parseAvro } from "./avro.js";
import { type Bump, bumpVersion, compareVersions, maxBump, writeVersion } from "./bump.js";
import { type Change, describeChange, diffSchemas, isDocOnly } from "./diff.js";
import { GitRepo } from "./git.js";
import { type Dependents, WorkspaceGraph } from "./impact.js";
import { lintFiles } from "./lint.js";
import { ReviewRegistry } from "./registry.js";
import {
  buildView,
  type CatalogView,
  type EventDestination,
  type EventView,
  readCommit,
  readWorkingTree,
} from "./snapshot.js";
import { judge, type SchemaVersion, type Verdict } from "./verdict.js";

/** What to review. */
export interface ReviewOptions {
  /** The schemas folder (its git repository is the one read). */
  schemasDir: string;
  /** Git ref of the base (a branch, tag or commit). */
  base: string;
  /**
   * Registry API URL (credentials and CA then from `SCHEMA_REGISTRY_*`), or its whole connection: also compare with
   * the registered versions and the registry's own verdict.
   */
  registry?: string | RegistryConnectionOptions | undefined;
  /** Update the generated packages' versions (package.json) to the bump the review computed. */
  write?: boolean | undefined;
}

/** A change, with the sentence that describes it. */
export type DescribedChange = Change & { description: string };

/** What the registry says about one subject of an event (with `--registry`). */
export interface RegistryComparison {
  /** The subject compared with. */
  subject: string;
  /** False when the subject does not exist in the registry yet. */
  registered: boolean;
  /** The subject's compatibility level in the registry. */
  mode: Compatibility;
  /** Registered versions compared with. */
  versions: number[];
  /** The registry's answer to POST /compatibility/.../versions/latest (null when not registered). */
  registryCompatible: boolean | null;
  /** Our verdict under the registry's level against the registered versions. */
  ourCompatible: boolean;
  /** False when the two verdicts differ: reported as a disagreement. */
  agrees: boolean;
  /** Notes for the reviewer, e.g. the registry's level differs from the manifest's. */
  notes: string[];
}

/** The review of one event. */
export interface EventReview {
  /** Full record name. */
  name: string;
  /** Its registry subjects (the record name under RecordNameStrategy, else one per Kafka topic), default first. */
  subjects: string[];
  file: string;
  domain: string;
  owner: string | null;
  status: "added" | "removed" | "changed";
  /** The subject's compatibility mode (from the manifest at the head; the base's for a removed event). */
  compatibility: Compatibility;
  /** Labels of the compared versions, e.g. `v3` → `v4`. */
  baseVersion: string | null;
  headVersion: string | null;
  /** Where the earlier versions come from. */
  history: "git" | "registry";
  changes: DescribedChange[];
  /** Null for added and removed events. */
  verdict: Verdict | null;
  /** True when the change breaks the subject's compatibility (or removes the event). */
  breaking: boolean;
  /** Sentences explaining every break. */
  reasons: string[];
  bump: Bump;
  destinations: EventDestination[];
  /** The registry's view of the default subject (the first of `subjects`). */
  registry: RegistryComparison | null;
  /** The registry's view of every subject, the default first (empty without `--registry`). */
  registrySubjects: RegistryComparison[];
}

/** A generated package the change touches. */
export interface PackageImpact {
  name: string;
  /** Folder relative to the workspace root; null when the workspace has no such package. */
  dir: string | null;
  domain: string;
  events: string[];
  bump: Bump;
  /** Version at the base. */
  baseVersion: string | null;
  /** Version in the working tree. */
  version: string | null;
  /** The version the package needs (base version + bump). */
  next: string | null;
  /** True when the working tree's version is already at least `next`. */
  upToDate: boolean;
  /** True when `--write` updated package.json. */
  written: boolean;
  dependents: Dependents;
}

/** The whole review. */
export interface Review {
  base: { ref: string; commit: string };
  head: string;
  /** The schemas folder, relative to the repository root. */
  schemasPath: string;
  registry: string | null;
  events: EventReview[];
  lint: LintFinding[];
  packages: PackageImpact[];
  summary: {
    changedEvents: number;
    breaking: number;
    lintErrors: number;
    lintSuppressed: number;
    registryDisagreements: number;
    /** 0 nothing breaks, 1 a break or a lint error. */
    exitCode: 0 | 1;
  };
}

function bumpOf(status: EventReview["status"], breaking: boolean, changes: readonly Change[]): Bump {
  if (status === "removed" || breaking) return "major";
  if (status === "added") return "minor";
  if (changes.length === 0) return "none";
  return changes.every(isDocOnly) ? "patch" : "minor";
}

/**
 * Reviews the schemas and manifest of the working tree against those at `options.base`.
 *
 * @throws ReviewError (exit code 2) when it cannot run: the folder is not in a git repository, the base ref names no
 *   commit, a schema or the manifest does not parse at the base or the head, or the registry (when asked for) cannot
 *   be reached.
 */
export async function runReview(options: ReviewOptions): Promise<Review> {
  const schemasDir = resolve(options.schemasDir);
  const repo = GitRepo.containing(schemasDir);
  const schemasPath = relative(repo.root, schemasDir).split("\\").join("/");
  const commit = repo.resolve(options.base);
  const short = commit.slice(0, 7);
  const baseFiles = readCommit(repo, commit, schemasPath, `base ${options.base} (${short})`);
  const headFiles = readWorkingTree(schemasDir);
  const base = buildView(baseFiles, true);
  const head = buildView(headFiles, true);

  const registry = options.registry
    ? new ReviewRegistry(
        typeof options.registry === "string"
          ? registrySettingsFromEnv(process.env, options.registry)
          : options.registry,
      )
    : undefined;
  const globalLevel = registry ? await registry.ping() : undefined;

  const history = new GitHistory(repo, commit, schemasPath);
  const names = [...new Set([...base.events.keys(), ...head.events.keys()])].sort();
  const events: EventReview[] = [];
  for (const name of names) {
    const before = base.events.get(name);
    const after = head.events.get(name);
    if (before && after && JSON.stringify(before.json) === JSON.stringify(after.json)) continue;
    events.push(await reviewEvent(before, after, history, registry, globalLevel));
  }

  const changedFiles = [...headFiles.files.keys()].filter(
    (file) => file.endsWith(".avsc") && baseFiles.files.get(file) !== headFiles.files.get(file),
  );
  const lint = lintFiles(head, base, changedFiles);
  const packages = packageImpact(repo, commit, events, options.write === true);

  const breaking = events.filter((e) => e.breaking).length;
  const lintErrors = lint.filter((f) => f.suppressed === null).length;
  return {
    base: { ref: options.base, commit },
    head: "working tree",
    schemasPath,
    registry: registry?.url ?? null,
    events,
    lint,
    packages,
    summary: {
      changedEvents: events.length,
      breaking,
      lintErrors,
      lintSuppressed: lint.length - lintErrors,
      registryDisagreements: events.filter((e) => e.registry && !e.registry.agrees).length,
      exitCode: breaking > 0 || lintErrors > 0 ? 1 : 0,
    },
  };
}

async function reviewEvent(
  before: EventView | undefined,
  after: EventView | undefined,
  history: GitHistory,
  registry: ReviewRegistry | undefined,
  globalLevel: Compatibility | undefined,
): Promise<EventReview> {
  const event = (after ?? before) as EventView;
  const status = before === undefined ? "added" : after === undefined ? "removed" : "changed";
  const changes: DescribedChange[] =
    before && after
      ? diffSchemas(before.schema, after.schema).map((c) => ({ ...c, description: describeChange(c) }))
      : [];
  let earlier: SchemaVersion[] = before ? history.versions(before) : [];
  let source: EventReview["history"] = "git";
  let comparison: RegistryComparison | null = null;

  const registrySubjects: RegistryComparison[] = [];
  const reasons: string[] = [];
  if (registry && after) {
    for (const subject of after.subjects) {
      const { comparison, registered } = await compareWithRegistry(registry, subject, after, globalLevel);
      registrySubjects.push(comparison);
      if (registered.length > 0 && source === "git") {
        // The versions of the first registered subject are the history the verdict judges against.
        earlier = registered;
        source = "registry";
      } else if (registered.length > 0 && !comparison.ourCompatible) {
        reasons.push(
          `under subject ${subject} (${comparison.mode}) the new schema cannot follow the registered versions ${comparison.versions.join(", ")}`,
        );
      }
    }
    comparison = registrySubjects[0] ?? null;
  }

  const headLabel = after ? `v${earlier.length > 0 ? nextNumber(earlier) : 1}` : null;
  let verdict: Verdict | null = null;
  if (after && earlier.length > 0 && status === "changed") {
    verdict = judge(after.compatibility, earlier, {
      label: headLabel as string,
      source: "working tree",
      json: after.json,
      schema: after.schema,
    });
    reasons.unshift(...verdict.reasons);
  }
  if (status === "removed") {
    reasons.push(
      `${event.name} was removed from the catalog: its generated type disappears from @kronos/events-${event.domain}, and consumers that import it no longer compile`,
    );
  }
  const breaking = reasons.length > 0;
  return {
    name: event.name,
    subjects: event.subjects,
    file: event.file,
    domain: event.domain,
    owner: event.owner,
    status,
    compatibility: event.compatibility,
    baseVersion: earlier.at(-1)?.label ?? null,
    headVersion: headLabel,
    history: source,
    changes,
    verdict,
    breaking,
    reasons,
    bump: bumpOf(status, breaking, changes),
    destinations: (after ?? before)?.destinations ?? [],
    registry: comparison,
    registrySubjects,
  };
}

/** Compares the head's schema of `after` with the versions registered under `subject`, and asks the registry. */
async function compareWithRegistry(
  registry: ReviewRegistry,
  subject: string,
  after: EventView,
  globalLevel: Compatibility | undefined,
): Promise<{ comparison: RegistryComparison; registered: SchemaVersion[] }> {
  const known = await registry.subject(subject, globalLevel ?? "BACKWARD");
  const registered: SchemaVersion[] = known.versions.map((v) => ({
    label: `v${v.version}`,
    source: `registry version ${v.version} of ${subject}`,
    json: v.schema,
    schema: parseAvro(v.schema),
  }));
  const last = known.versions.at(-1)?.version ?? 0;
  const candidate = { label: `v${last + 1}`, source: "working tree", json: after.json, schema: after.schema };
  const ours = judge(known.compatibility, registered, candidate).compatible;
  const theirs = registered.length > 0 ? ((await registry.isCompatible(subject, after.json)) ?? null) : null;
  const notes: string[] = [];
  if (known.compatibility !== after.compatibility) {
    notes.push(`the registry checks ${subject} under ${known.compatibility}, the manifest says ${after.compatibility}`);
  }
  if (theirs !== null && theirs !== ours) {
    notes.push(
      `disagreement: the registry says ${theirs ? "compatible" : "incompatible"}, this review says ${ours ? "compatible" : "incompatible"} (under ${known.compatibility})`,
    );
  }
  const comparison: RegistryComparison = {
    subject,
    registered: registered.length > 0,
    mode: known.compatibility,
    versions: known.versions.map((v) => v.version),
    registryCompatible: theirs,
    ourCompatible: ours,
    agrees: theirs === null || theirs === ours,
    notes,
  };
  return { comparison, registered };
}

function nextNumber(earlier: readonly SchemaVersion[]): number {
  const last = earlier.at(-1)?.label ?? "v0";
  return Number(last.slice(1)) + 1;
}

/** Earlier versions of events from git history: each distinct self-contained schema, oldest first. */
class GitHistory {
  readonly #repo: GitRepo;
  readonly #commit: string;
  readonly #path: string;
  #views: { commit: string; view: CatalogView }[] | undefined;

  constructor(repo: GitRepo, commit: string, path: string) {
    this.#repo = repo;
    this.#commit = commit;
    this.#path = path;
  }

  #all(): { commit: string; view: CatalogView }[] {
    if (this.#views === undefined) {
      const commits = this.#repo.commitsTouching(this.#commit, this.#path === "" ? "." : this.#path).reverse();
      this.#views = commits.map((commit) => ({
        commit,
        view: buildView(readCommit(this.#repo, commit, this.#path, `commit ${commit.slice(0, 7)}`), false),
      }));
    }
    return this.#views;
  }

  /** The versions of `event` up to and including the base (its schema there), labelled v1, v2, ... */
  versions(event: EventView): SchemaVersion[] {
    const out: SchemaVersion[] = [];
    let previous: string | undefined;
    for (const { commit, view } of this.#all()) {
      const at = view.events.get(event.name);
      if (at === undefined) continue;
      const text = JSON.stringify(at.json);
      if (text === previous) continue;
      previous = text;
      out.push({ label: `v${out.length + 1}`, source: `git ${commit.slice(0, 7)}`, json: at.json, schema: at.schema });
    }
    if (previous !== JSON.stringify(event.json)) {
      out.push({ label: `v${out.length + 1}`, source: "base", json: event.json, schema: event.schema });
    }
    return out;
  }
}

function packageImpact(repo: GitRepo, commit: string, events: readonly EventReview[], write: boolean): PackageImpact[] {
  const graph = WorkspaceGraph.read(repo.root);
  const byDomain = new Map<string, EventReview[]>();
  for (const event of events) byDomain.set(event.domain, [...(byDomain.get(event.domain) ?? []), event]);
  const out: PackageImpact[] = [];
  for (const [domain, list] of [...byDomain].sort(([a], [b]) => a.localeCompare(b))) {
    const pkg = graph.eventsPackage(domain);
    const bump = list.reduce<Bump>((acc, e) => maxBump(acc, e.bump), "none");
    const name = pkg?.name ?? `@kronos/events-${domain.split("/").join("-")}`;
    let baseVersion: string | null = null;
    if (pkg) {
      const text = repo.show(commit, `${pkg.dir}/package.json`);
      baseVersion = text ? ((JSON.parse(text) as { version?: string }).version ?? null) : null;
    }
    const version = pkg?.version ?? null;
    const from = baseVersion ?? version;
    const next = from && bump !== "none" ? bumpVersion(from, bump) : from;
    const upToDate = version !== null && next !== null && compareVersions(version, next) >= 0;
    const written = write && pkg !== undefined && next !== null && !upToDate && writeVersion(graph.root, pkg.dir, next);
    out.push({
      name,
      dir: pkg?.dir ?? null,
      domain,
      events: list.map((e) => e.name),
      bump,
      baseVersion,
      version: written ? next : version,
      next,
      upToDate: upToDate || written,
      written,
      dependents: pkg ? graph.dependents(pkg.name) : { direct: [], indirect: [] },
    });
  }
  return out;
}
