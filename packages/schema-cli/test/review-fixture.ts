import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CliOutput } from "../src/index.js";
import { type FixtureField, writeCatalog, writeThing } from "./catalog-fixture.js";

/** A temporary git repository holding a pnpm workspace and a one-event catalog in `schemas/`. */
export interface ReviewRepo {
  root: string;
  schemas: string;
  domain: string;
  /** Writes a new version of the event's schema into the working tree. */
  write(fields: FixtureField[]): void;
  /** Commits everything; returns the commit id. */
  commit(message: string): string;
  /** Runs git in the repository. */
  git(...args: string[]): string;
  /** The version in the generated package's package.json. */
  packageVersion(): string;
}

/**
 * Creates the repository: `schemas/` (the event `kronos.<domain>.Thing` with `fields`, bound to Kafka topic
 * `kronos.<domain>.things`, compatibility `mode`), `packages/events-<domain>` (generates the domain) and
 * `apps/consumer` (depends on it). Nothing is committed yet.
 */
export function reviewRepo(domain: string, fields: FixtureField[], mode = "BACKWARD"): ReviewRepo {
  const root = mkdtempSync(join(tmpdir(), "kronos-review-"));
  const git = (...args: string[]) =>
    execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  git("init", "--quiet", "--initial-branch=main");
  git("config", "user.email", "review@test.invalid");
  git("config", "user.name", "Review test");
  git("config", "commit.gpgsign", "false");
  const schemas = join(root, "schemas");
  writeCatalog(domain, fields, schemas);
  const manifest = join(schemas, "asyncapi.yaml");
  writeFileSync(
    manifest,
    readFileSync(manifest, "utf8").replace(
      `x-kronos-owner: ${domain}`,
      `x-kronos-owner: ${domain}\n      x-kronos-compatibility: ${mode}`,
    ),
  );
  writeFileSync(join(root, "pnpm-workspace.yaml"), 'packages:\n  - "apps/*"\n  - "packages/*"\n');
  const pkg = join(root, "packages", `events-${domain}`);
  mkdirSync(pkg, { recursive: true });
  writeFileSync(
    join(pkg, "package.json"),
    `${JSON.stringify(
      {
        name: `@kronos/events-${domain}`,
        version: "0.1.0",
        scripts: { generate: `kronos-schemas generate --domain ${domain} --out src/generated` },
      },
      null,
      2,
    )}\n`,
  );
  for (const [dir, deps] of [
    ["apps/consumer", { [`@kronos/events-${domain}`]: "workspace:*" }],
    ["apps/edge", { "@kronos/consumer": "workspace:*" }],
  ] as const) {
    mkdirSync(join(root, dir), { recursive: true });
    const name = `@kronos/${dir.split("/")[1]}`;
    writeFileSync(
      join(root, dir, "package.json"),
      `${JSON.stringify({ name, version: "1.0.0", dependencies: deps })}\n`,
    );
  }
  return {
    root,
    schemas,
    domain,
    write: (next) => writeThing(schemas, domain, next),
    commit: (message) => {
      git("add", "-A");
      git("commit", "--quiet", "-m", message);
      return git("rev-parse", "HEAD").trim();
    },
    git,
    packageVersion: () => (JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")) as { version: string }).version,
  };
}

/** A CLI output that keeps what was printed. */
export function capture(): CliOutput & { stdout: string[]; stderr: string[]; text(): string } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (line) => stdout.push(line),
    err: (line) => stderr.push(line),
    text: () => stdout.join("\n"),
  };
}
