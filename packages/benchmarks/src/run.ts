// `pnpm bench [codec|publish|subscribe|request|relay|dlq|workers ...]`: runs the named benchmarks (all when none is named),
// each in its own process so one cannot warm or load the other. Exit code: the first failing benchmark's.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const BENCHMARKS = ["codec", "publish", "subscribe", "request", "relay", "dlq", "workers"] as const;
const here = dirname(fileURLToPath(import.meta.url));
// Options (`--count 5000`) go to every benchmark named.
const args = process.argv.slice(2).filter((arg) => arg !== "--");
const options = args.flatMap((arg, i) => (arg.startsWith("--") ? [arg, args[i + 1] as string] : []));
const asked = args.filter((arg, i) => !arg.startsWith("--") && !args[i - 1]?.startsWith("--"));
const unknown = asked.filter((name) => !(BENCHMARKS as readonly string[]).includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}; choose from ${BENCHMARKS.join(", ")}`);
  process.exit(2);
}
let exitCode = 0;
for (const name of asked.length > 0 ? asked : BENCHMARKS) {
  console.log(`\n==== ${name} benchmark`);
  const result = spawnSync(process.execPath, ["--import", "tsx", join(here, `${name}.bench.ts`), ...options], {
    stdio: "inherit",
    cwd: join(here, ".."),
  });
  if (result.status !== 0 && exitCode === 0) exitCode = result.status ?? 1;
}
process.exit(exitCode);
