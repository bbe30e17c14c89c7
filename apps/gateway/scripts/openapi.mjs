// Rewrites apps/gateway/openapi.json from the route schemas: `pnpm --filter @kronos/gateway openapi` (after a build).
// test/openapi.int.test.ts fails while the committed file differs from what the gateway serves at /openapi.json.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildApp, loadConfig } from "../dist/app.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const file = join(root, "openapi.json");
const app = await buildApp(loadConfig({ ...process.env, LOG_LEVEL: "silent" }));
try {
  await app.ready();
  writeFileSync(file, `${JSON.stringify(app.swagger(), null, 2)}\n`);
} finally {
  await app.close();
}
execFileSync("pnpm", ["exec", "biome", "format", "--write", file], { cwd: root, stdio: "inherit" });
console.log(`wrote ${file}`);
