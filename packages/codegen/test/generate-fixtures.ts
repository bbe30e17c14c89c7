import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { runGenerate } from "../src/run.js";

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/**
 * Generates the fixture schemas into test/generated (gitignored): `main` (every edge), and the v1→v2 pair of
 * `fixtures.versions.AccountOpened` into `v1` and `v2` (same full name, so two separate runs).
 */
export async function generateFixtures(): Promise<void> {
  const bindings = JSON.parse(await readFile(here("./fixtures/bindings.json"), "utf8")) as Record<string, unknown>;
  await runGenerate({
    schemasDir: here("./fixtures/main"),
    outDir: here("./generated/main"),
    sourceRoot: "packages/codegen/test/fixtures/main",
    bindings,
    isEvent: (fullName) => fullName !== "fixtures.common.Header",
  });
  for (const version of ["v1", "v2"]) {
    await runGenerate({
      schemasDir: here(`./fixtures/versions/${version}`),
      outDir: here(`./generated/${version}`),
      sourceRoot: `packages/codegen/test/fixtures/versions/${version}`,
    });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await generateFixtures();
}
