import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { StackError } from "./errors.js";
import type { StackSettings } from "./settings.js";

/** Fails with an install hint unless `tool --version` runs. */
export function requireTool(tool: "java" | "mvn", why: string): void {
  const result = spawnSync(tool, ["-version"], { encoding: "utf8" });
  if (result.error || result.status !== 0) {
    const hint =
      tool === "java"
        ? "Install a JDK 17 or newer (Debian/Ubuntu: apt-get install openjdk-17-jdk-headless; macOS: brew install openjdk@17)."
        : "Install Apache Maven (Debian/Ubuntu: apt-get install maven; macOS: brew install maven).";
    throw new StackError(`${tool} is needed ${why}, but it is not on PATH. ${hint}`);
  }
}

/**
 * Runs `fill(partialDir)` to produce a folder, then renames it to `finalDir` in one step. An interrupted or
 * failed download leaves no `finalDir` behind (only a partial folder that the next attempt removes), so the
 * cache is either complete or absent.
 */
function atomically(finalDir: string, fill: (partialDir: string) => void): string {
  if (existsSync(finalDir)) return finalDir;
  const partial = `${finalDir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    fill(partial);
    renameSync(partial, finalDir);
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  return finalDir;
}

function maven(args: string[], what: string): void {
  const result = spawnSync("mvn", ["-q", "-B", ...args], { encoding: "utf8" });
  if (result.status !== 0) {
    const output = `${result.stdout}\n${result.stderr}`.trim().split("\n").slice(-15).join("\n");
    throw new StackError(
      `Maven could not download ${what}. Check that this machine reaches Maven Central ` +
        `(or the mirror in ~/.m2/settings.xml), then run the command again.\n${output}`,
    );
  }
}

/**
 * The folder of jars that runs Kafka `versions.kafka`, downloaded once with Maven from Maven Central
 * (`org.apache.kafka:kafka_<scala>` and its runtime dependencies).
 * @throws StackError when Maven is missing or the download fails
 */
export function ensureKafkaJars(settings: StackSettings): string {
  const { kafka, scala } = settings.versions;
  const finalDir = join(settings.cacheDir, `kafka_${scala}-${kafka}`);
  if (existsSync(finalDir)) return join(finalDir, "libs");
  requireTool("mvn", "to download Kafka from Maven Central");
  console.log(`  downloading Kafka ${kafka} from Maven Central (once) into ${finalDir}`);
  atomically(finalDir, (partial) => {
    maven(
      [
        "-f",
        join(settings.infraDir, "kafka", "pom.xml"),
        `-Dkafka.version=${kafka}`,
        `-Dscala.version=${scala}`,
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        `-DoutputDirectory=${join(partial, "libs")}`,
      ],
      `Kafka ${kafka}`,
    );
  });
  return join(finalDir, "libs");
}

/**
 * The runner jar of Apicurio Registry `versions.apicurio`, downloaded once from Maven Central
 * (`io.apicurio:apicurio-registry-app:<version>:tar.gz:all`) and unpacked.
 * @throws StackError when Maven is missing or the download fails
 */
export function ensureApicurio(settings: StackSettings): string {
  const version = settings.versions.apicurio;
  const finalDir = join(settings.cacheDir, `apicurio-registry-${version}`);
  if (!existsSync(finalDir)) {
    requireTool("mvn", "to download Apicurio Registry from Maven Central");
    console.log(`  downloading Apicurio Registry ${version} from Maven Central (once) into ${finalDir}`);
    atomically(finalDir, (partial) => {
      const archiveDir = join(partial, "archive");
      maven(
        [
          "dependency:copy",
          `-Dartifact=io.apicurio:apicurio-registry-app:${version}:tar.gz:all`,
          `-DoutputDirectory=${archiveDir}`,
        ],
        `Apicurio Registry ${version}`,
      );
      const archive = readdirSync(archiveDir).find((name) => name.endsWith(".tar.gz"));
      if (!archive) throw new StackError(`Maven downloaded no Apicurio archive into ${archiveDir}.`);
      const tar = spawnSync("tar", ["-xzf", join(archiveDir, archive), "-C", partial], { encoding: "utf8" });
      if (tar.status !== 0) throw new StackError(`cannot unpack ${archive}: ${tar.stderr.trim()}`);
      rmSync(archiveDir, { recursive: true, force: true });
    });
  }
  const runner = readdirSync(finalDir).find((name) => name.endsWith("-runner.jar"));
  if (!runner) {
    throw new StackError(`${finalDir} has no *-runner.jar: delete that folder and run the command again.`);
  }
  return join(finalDir, runner);
}

/**
 * The Verdaccio entry script (`verdaccio/bin/verdaccio`) of `versions.verdaccio`, installed once with npm from the
 * npm registry into the cache (`<cacheDir>/verdaccio-<version>`).
 * @throws StackError when npm cannot install it
 */
export function ensureVerdaccio(settings: StackSettings): string {
  const version = settings.versions.verdaccio;
  const finalDir = join(settings.cacheDir, `verdaccio-${version}`);
  const entry = join(finalDir, "node_modules", "verdaccio", "bin", "verdaccio");
  if (existsSync(entry)) return entry;
  console.log(`  installing Verdaccio ${version} from the npm registry (once) into ${finalDir}`);
  atomically(finalDir, (partial) => {
    const npm = spawnSync(
      "npm",
      ["install", "--prefix", partial, "--no-audit", "--no-fund", "--loglevel=error", `verdaccio@${version}`],
      { encoding: "utf8" },
    );
    if (npm.error || npm.status !== 0) {
      const output = `${npm.stdout ?? ""}\n${npm.stderr ?? ""}`.trim().split("\n").slice(-10).join("\n");
      throw new StackError(
        `npm could not install Verdaccio ${version}: check this machine's access to the npm registry ` +
          `(npm config get registry), then run the command again.\n${output}`,
      );
    }
  });
  return entry;
}
