// The version-bump flow, on a copy of the workspace (the real schemas/ and packages are never changed): a compatible
// change to CriticalAlert is released as a minor version, a service updates to it with `npm update`, and a consumer
// still on the old version reads what the new one writes (and the reverse); a breaking change is refused.
//
// Registry: the shared one, but the copy's CriticalAlert is bound to a topic of this run's own and named by
// TopicRecordNameStrategy, so its changed schemas go under a subject of their own
// (`<unique topic>-kronos.gaia.CriticalAlert`, deleted afterwards) and never under `kronos.gaia.CriticalAlert`, which
// other tests read. That costs nothing to start (a second Apicurio is a JVM and 10-20 s on a shared 2-core machine)
// and uses subject naming as a service would. The other events of the copy register as they are (no new version).
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { generateDomain } from "@kronos/schema-cli";
import { testEndpoints, uniqueName } from "@kronos/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishedVersions } from "../src/npm-registry.js";
import { release } from "../src/release.js";
import {
  copyWorkspace,
  installExample,
  root,
  run,
  startTestNpmRegistry,
  type TestNpmRegistry,
} from "./release-fixture.js";

const { kafkaBrokers, registryUrl: schemaRegistry } = testEndpoints();
const topic = uniqueName("bump.gaia.alerts");
const subject = `${topic}-kronos.gaia.CriticalAlert`;
const GAIA = "@kronos/events-gaia";

/**
 * Sends one CriticalAlert (`produce <alertId> [team]`) or reads it back and prints it as JSON (`consume <alertId>`),
 * with whatever versions of the packages the service it is written into has installed.
 */
const CHECK_SCRIPT = `
import { randomUUID } from "node:crypto";
import { avroToJson, RegistrySerde } from "@kronos/contracts";
import { CriticalAlertEvent } from "@kronos/events-gaia";
import { Kafka, logLevel } from "kafkajs";
const [mode, topic, alertId, team] = process.argv.slice(2);
const serde = new RegistrySerde({ url: process.env.SCHEMA_REGISTRY_URL });
const kafka = new Kafka({ clientId: "bump-check", brokers: process.env.KAFKA_BROKERS.split(","), logLevel: logLevel.ERROR });
if (mode === "produce") {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const now = new Date();
  const alert = {
    meta: { eventId: randomUUID(), occurredAt: now, producer: "gaia", correlationId: null, traceparent: null },
    alertId, severity: "MAJOR", sourceService: "auth", fingerprint: "bump", title: "Bump", description: "Bump test.",
    labels: {}, raisedAt: now, runbookUrl: null, ...(team === undefined ? {} : { team }),
  };
  const value = await serde.encode(CriticalAlertEvent, alert, { topic });
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: [{ key: alertId, value }] });
  await producer.disconnect();
} else {
  const consumer = kafka.consumer({ groupId: "bump-check-" + randomUUID() });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const read = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("alert " + alertId + " not read back within 60 s")), 60_000);
    consumer.run({ eachMessage: async ({ message }) => {
      const value = await serde.decode(CriticalAlertEvent, message.value);
      if (value.alertId === alertId) { clearTimeout(timer); resolve(value); }
    } }).catch(reject);
  });
  await consumer.disconnect();
  console.log(JSON.stringify(avroToJson(read)));
}
`;

describe("a schema change from release to a service's npm update", () => {
  let npm: TestNpmRegistry;
  let registry: TestNpmRegistry["registry"];
  const ws = copyWorkspace(["contracts", "events-gaia"]);
  const gaiaDir = join(ws.root, "packages", "events-gaia");
  const avsc = join(ws.root, "schemas", "gaia", "CriticalAlert.avsc");
  const services: string[] = [];
  let base: string;
  let oldService: string;
  let newService: string;

  /** Generates and compiles the copy's events-gaia from the copy's schemas (what the release's build step does). */
  async function buildGaia(): Promise<void> {
    await generateDomain({
      schemasDir: join(ws.root, "schemas"),
      domain: "gaia",
      outDir: join(gaiaDir, "src", "generated"),
    });
    const tsc = createRequire(join(root, "packages", "events-gaia", "package.json")).resolve("typescript/bin/tsc");
    run(process.execPath, [tsc, "-p", "tsconfig.build.json"], gaiaDir);
  }

  /** Rewrites the copy's CriticalAlert schema: `edit` gets and changes its fields. */
  function editAlert(edit: (fields: Array<Record<string, unknown>>) => void): void {
    const schema = JSON.parse(readFileSync(avsc, "utf8")) as { fields: Array<Record<string, unknown>> };
    edit(schema.fields);
    writeFileSync(avsc, `${JSON.stringify(schema, null, 2)}\n`);
  }

  function check(service: string, ...args: string[]): string {
    return run("node", ["check.mjs", ...args], service, {
      KAFKA_BROKERS: kafkaBrokers,
      SCHEMA_REGISTRY_URL: schemaRegistry,
    });
  }

  function installed(service: string): string {
    const manifest = join(service, "node_modules", "@kronos", "events-gaia", "package.json");
    return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
  }

  beforeAll(async () => {
    npm = await startTestNpmRegistry();
    registry = npm.registry;
    // The copy's CriticalAlert: on this run's own topic, one subject per topic.
    const manifestPath = join(ws.root, "schemas", "asyncapi.yaml");
    const edits: Array<[string, string]> = [
      ["    address: kronos.gaia.alerts\n", `    address: ${topic}\n`],
      ["        topic: kronos.gaia.alerts\n", `        topic: ${topic}\n`],
      [
        '          $ref: ./gaia/CriticalAlert.avsc\n      bindings:\n        $ref: "#/components/messageBindings/confluentAvro"\n',
        "          $ref: ./gaia/CriticalAlert.avsc\n      bindings:\n        kafka:\n          schemaIdLocation: payload\n" +
          "          schemaLookupStrategy: TopicRecordNameStrategy\n      x-kronos-subject-naming: TopicRecordNameStrategy\n",
      ],
    ];
    let manifest = readFileSync(manifestPath, "utf8");
    for (const [from, to] of edits) {
      expect(manifest).toContain(from);
      manifest = manifest.replace(from, to);
    }
    writeFileSync(manifestPath, manifest);
    // 1.x, so that the compatible change is a minor (below 1.0.0 review makes it a patch: ^0.1.0 is <0.2.0).
    const pkgPath = join(gaiaDir, "package.json");
    writeFileSync(pkgPath, readFileSync(pkgPath, "utf8").replace('"version": "0.1.0"', '"version": "1.0.0"'));
    await buildGaia();
    ws.git("add", "-A");
    ws.git("commit", "--quiet", "-m", "events-gaia 1.0.0");
    base = ws.git("rev-parse", "HEAD").trim();
  }, 180_000);

  afterAll(async () => {
    await npm?.stop();
    for (const dir of [ws.root, ...services]) rmSync(dir, { recursive: true, force: true });
    await fetch(`${schemaRegistry}/subjects/${encodeURIComponent(subject)}`, { method: "DELETE" });
    await fetch(`${schemaRegistry}/subjects/${encodeURIComponent(subject)}?permanent=true`, { method: "DELETE" });
  });

  it("releases 1.0.0 and a service installs it", async () => {
    const first = await release({ root: ws.root, registry, schemaRegistry, build: false });
    expect(first.packages.find((p) => p.name === GAIA)).toMatchObject({ version: "1.0.0", latest: undefined });
    expect(first.published).toEqual(["@kronos/contracts@0.1.0", `${GAIA}@1.0.0`]);
    oldService = installExample(registry.url, (pkg) => {
      (pkg.dependencies as Record<string, string>)[GAIA] = "^1.0.0";
    });
    services.push(oldService);
    writeFileSync(join(oldService, "check.mjs"), CHECK_SCRIPT);
    expect(installed(oldService)).toBe("1.0.0");
  }, 240_000);

  it("a compatible change is released as 1.1.0; after npm update, old and new read each other's messages", async () => {
    editAlert((fields) =>
      fields.push({
        name: "team",
        type: ["null", "string"],
        default: null,
        doc: "The team on call for it; null when unknown.",
      }),
    );
    await buildGaia();
    const lines: string[] = [];
    const result = await release({
      root: ws.root,
      registry,
      schemaRegistry,
      base,
      build: false,
      log: (l) => lines.push(l),
    });
    expect(result.published).toEqual([`${GAIA}@1.1.0`]);
    expect(result.packages.find((p) => p.name === GAIA)).toMatchObject({ bump: "minor", latest: "1.0.0" });
    expect(readFileSync(join(gaiaDir, "CHANGELOG.md"), "utf8")).toMatch(/## 1\.1\.0[\s\S]*`team`/);
    expect(await publishedVersions(registry, GAIA)).toEqual(["1.0.0", "1.1.0"]);
    ws.git("add", "-A");
    ws.git("commit", "--quiet", "-m", "events-gaia 1.1.0");
    base = ws.git("rev-parse", "HEAD").trim();

    // The service's new version, next to a copy still on the old one.
    newService = `${oldService}-updated`;
    cpSync(oldService, newService, { recursive: true, verbatimSymlinks: true });
    services.push(newService);
    run("npm", ["update", GAIA, "--no-audit", "--no-fund", "--loglevel=error"], newService);
    expect(installed(newService)).toBe("1.1.0");
    expect(installed(oldService)).toBe("1.0.0");

    check(newService, "produce", topic, "00000000-0000-4000-8000-000000000001", "sre");
    const readByOld = JSON.parse(check(oldService, "consume", topic, "00000000-0000-4000-8000-000000000001"));
    expect(readByOld).toMatchObject({ alertId: "00000000-0000-4000-8000-000000000001", title: "Bump" });
    expect(readByOld).not.toHaveProperty("team");

    check(oldService, "produce", topic, "00000000-0000-4000-8000-000000000002");
    const readByNew = JSON.parse(check(newService, "consume", topic, "00000000-0000-4000-8000-000000000002"));
    expect(readByNew).toMatchObject({ alertId: "00000000-0000-4000-8000-000000000002", team: null });
  }, 240_000);

  it("a breaking change is refused: review makes it a major, and the registry takes no breaking schema", async () => {
    editAlert((fields) =>
      fields.splice(
        fields.findIndex((f) => f.name === "title"),
        1,
      ),
    );
    await buildGaia();
    // With --base, schema review computes the bump: a new major, said in bold.
    const lines: string[] = [];
    const dry = await release({
      root: ws.root,
      registry,
      schemaRegistry,
      base,
      dryRun: true,
      build: false,
      log: (l) => lines.push(l),
    });
    expect(dry.packages.find((p) => p.name === GAIA)).toMatchObject({
      version: "2.0.0",
      bump: "major",
      action: "publish",
    });
    expect(lines.join("\n")).toContain(
      `would publish ${GAIA}@2.0.0 (registry has 1.1.0) — **BREAKING: new major version**`,
    );
    // As a minor, set by hand and released without review: the registry refuses the schema (FULL_TRANSITIVE), and
    // nothing is published.
    const pkgPath = join(gaiaDir, "package.json");
    writeFileSync(pkgPath, readFileSync(pkgPath, "utf8").replace('"version": "1.1.0"', '"version": "1.2.0"'));
    await expect(release({ root: ws.root, registry, schemaRegistry, build: false })).rejects.toMatchObject({
      code: "SCHEMAS_REFUSED",
      message: expect.stringMatching(
        new RegExp(`did not take the catalog's schemas[\\s\\S]*${subject.replaceAll(".", "\\.")}`),
      ),
    });
    expect(await publishedVersions(registry, GAIA)).toEqual(["1.0.0", "1.1.0"]);
  }, 240_000);
});
