import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadCatalog, type SubjectNaming, selfContainedSchema } from "@kronos/catalog";
import { defineEvent, RegistrySerde, unframe } from "@kronos/contracts";
import { testEndpoints } from "@kronos/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../src/index.js";
import type { FixtureField } from "./catalog-fixture.js";
import { capture, reviewRepo } from "./review-fixture.js";

const registryUrl = testEndpoints().registryUrl;
const created: string[] = [];

afterAll(async () => {
  for (const subject of created) {
    await fetch(`${registryUrl}/subjects/${encodeURIComponent(subject)}`, { method: "DELETE" });
    await fetch(`${registryUrl}/subjects/${encodeURIComponent(subject)}?permanent=true`, { method: "DELETE" });
  }
});

const v1: FixtureField[] = [{ name: "id", type: "string", doc: "Id." }];

async function versionsOf(subject: string): Promise<number[] | number> {
  const response = await fetch(`${registryUrl}/subjects/${encodeURIComponent(subject)}/versions`);
  return response.ok ? ((await response.json()) as number[]) : response.status;
}

describe.each<[SubjectNaming, (topic: string, record: string) => string]>([
  ["TopicNameStrategy", (topic) => `${topic}-value`],
  ["TopicRecordNameStrategy", (topic, record) => `${topic}-${record}`],
])("%s against the real registry: register, serde and review use the topic's subject", (naming, expected) => {
  // A unique domain: the topic kronos.<domain>.things and the record kronos.<domain>.Thing are this test's own.
  const domain = `sn${randomBytes(4).toString("hex")}`;
  const record = `kronos.${domain}.Thing`;
  const topic = `kronos.${domain}.things`;
  const subject = expected(topic, record);
  created.push(subject, record);
  const repo = reviewRepo(domain, v1);
  const manifest = join(repo.schemas, "asyncapi.yaml");
  writeFileSync(
    manifest,
    readFileSync(manifest, "utf8").replace(
      `x-kronos-owner: ${domain}`,
      `x-kronos-owner: ${domain}\n      x-kronos-subject-naming: ${naming}`,
    ),
  );
  repo.commit("v1");

  it("register puts the schema under the topic's subject only", async () => {
    const output = capture();
    expect(await main(["register", "--schemas", repo.schemas, "--registry", registryUrl], output)).toBe(0);
    expect(output.text()).toMatch(new RegExp(`\\[1/1\\] ${subject.replaceAll(".", "\\.")} \\(${record}\\) → id \\d+`));
    expect(await versionsOf(subject)).toEqual([1]);
    expect(await versionsOf(record)).toBe(404);
  });

  it("the serde frames with the id under the topic's subject and decodes it back", async () => {
    const catalog = await loadCatalog(repo.schemas);
    const [found] = catalog.events;
    expect(found?.subjects).toEqual([subject]);
    const event = defineEvent<{ id: string }>({
      name: record,
      subject: found?.subject as string,
      subjectNaming: found?.subjectNaming as SubjectNaming,
      topicSubjects: found?.topicSubjects as Record<string, string>,
      schema: selfContainedSchema(catalog, record),
      source: "test",
    });
    const serde = new RegistrySerde({ url: registryUrl });
    const bytes = await serde.encode(event, { id: "a" }, { topic });
    const id = (await (await fetch(`${registryUrl}/subjects/${encodeURIComponent(subject)}/versions/1`)).json()) as {
      id: number;
    };
    expect(unframe(bytes).schemaId).toBe(id.id);
    expect(await new RegistrySerde({ url: registryUrl }).decode(event, bytes)).toEqual({ id: "a" });
    // The record-name subject is not registered: a serde looking there (no autoRegister) would refuse.
    const byRecord = defineEvent({ name: record, schema: event.schema, source: "test" });
    await expect(serde.encode(byRecord, { id: "a" })).rejects.toMatchObject({ code: "SCHEMA_NOT_REGISTERED" });
    await expect(serde.encode(event, { id: "a" }, { topic: "elsewhere" })).rejects.toMatchObject({
      code: "TOPIC_NOT_BOUND",
    });
  });

  it("review compares with the versions of the topic's subject", async () => {
    repo.write([...v1, { name: "note", type: "string", doc: "A note.", default: "" }]);
    const ok = capture();
    expect(
      await main(["review", "--schemas", repo.schemas, "--base", "HEAD", "--registry", registryUrl, "--json"], ok),
    ).toBe(0);
    const good = JSON.parse(ok.text()) as { events: Array<{ subjects: string[]; history: string; registry: object }> };
    expect(good.events[0]).toMatchObject({ subjects: [subject], history: "registry" });
    expect(good.events[0]?.registry).toMatchObject({
      subject,
      registered: true,
      versions: [1],
      registryCompatible: true,
    });

    repo.write([...v1, { name: "count", type: "int", doc: "A new field without a default." }]);
    const bad = capture();
    expect(
      await main(["review", "--schemas", repo.schemas, "--base", "HEAD", "--registry", registryUrl, "--json"], bad),
    ).toBe(1);
    const refused = JSON.parse(bad.text()) as { events: Array<{ registry: object; breaking: boolean }> };
    expect(refused.events[0]).toMatchObject({ breaking: true });
    expect(refused.events[0]?.registry).toMatchObject({ subject, registryCompatible: false, ourCompatible: false });
  });
});
