import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { testEndpoints } from "@kronos/testkit";
import { expect, it } from "vitest";

// kafkajs 2.2.4 (no later release) schedules a negative timer on every connection, which Node 23+ reports on stderr as
// a TimeoutNegativeWarning (tulios/kafkajs#1751): every app's log would start with it. pnpm-workspace.yaml's
// patchedDependencies fixes that (patches/kafkajs@2.2.4.patch); this checks it, in a process of its own, as an app
// would run, against the real Kafka.
it("a Kafka client talking to the real broker prints no warning on this Node", () => {
  const script = `
    import { Kafka, logLevel } from "kafkajs";
    const kafka = new Kafka({ clientId: "node-warnings-test", brokers: process.env.BROKERS.split(","),
      logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.listTopics();
    await admin.disconnect();
    console.log("ok");`;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    env: { ...process.env, BROKERS: testEndpoints().kafkaBrokers },
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(result.stderr).toBe("");
  expect(result.stdout.trim()).toBe("ok");
});
