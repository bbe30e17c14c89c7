import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

// vitest resolves CommonJS named exports more leniently than Node does (kafkajs's enums, for one): load the built
// package with plain Node, as the apps do.
it("loads with plain Node from dist", () => {
  const entry = fileURLToPath(new URL("../dist/index.js", import.meta.url));
  const result = spawnSync(
    process.execPath,
    ["-e", `import(${JSON.stringify(entry)}).then((m) => console.log(typeof m.createKafkaPublisher))`],
    {
      encoding: "utf8",
    },
  );
  expect(result.stderr).toBe("");
  expect(result.stdout.trim()).toBe("function");
});
