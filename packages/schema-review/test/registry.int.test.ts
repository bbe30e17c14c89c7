import type { Compatibility } from "@kronos/catalog";
import { EVOLUTION_MATRIX as MATRIX } from "@kronos/catalog/testing";
import { TestResources, testEndpoints } from "@kronos/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { judge, parseAvro, ReviewError, ReviewRegistry, type SchemaVersion } from "../src/index.js";

const resources = new TestResources();
afterAll(() => resources.cleanup());
const url = testEndpoints().registryUrl;
const CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

async function call(method: string, path: string, body: unknown): Promise<unknown> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { "content-type": CONTENT_TYPE },
    body: JSON.stringify(body),
  });
  expect(response.status, `${method} ${path}`).toBe(200);
  return response.json();
}

/** A new subject holding `first` under `mode`. */
async function subjectWith(first: object, mode: Compatibility): Promise<string> {
  const subject = resources.subject("kronos.review");
  await call("POST", `/subjects/${encodeURIComponent(subject)}/versions`, { schema: JSON.stringify(first) });
  await call("PUT", `/config/${encodeURIComponent(subject)}`, { compatibility: mode });
  return subject;
}

function version(label: string, json: object): SchemaVersion {
  return { label, source: "test", json: json as never, schema: parseAvro(json as never) };
}

describe("our verdicts agree with the registry's /compatibility answers", () => {
  const registry = new ReviewRegistry(url);

  it.each(MATRIX)("BACKWARD: $change", async (row) => {
    const subject = await subjectWith(row.writer, "BACKWARD");
    const ours = judge("BACKWARD", [version("v1", row.writer)], version("v2", row.reader)).compatible;
    const theirs = await registry.isCompatible(subject, row.reader as never);
    expect(ours).toBe(row.compatible);
    expect(theirs).toBe(ours);
  });

  it.each(MATRIX)("FORWARD (roles swapped): $change", async (row) => {
    const subject = await subjectWith(row.reader, "FORWARD");
    const ours = judge("FORWARD", [version("v1", row.reader)], version("v2", row.writer)).compatible;
    const theirs = await registry.isCompatible(subject, row.writer as never);
    expect(ours).toBe(row.compatible);
    expect(theirs).toBe(ours);
  });

  it("reads a subject's versions and level", async () => {
    const first = MATRIX[0]?.writer as object;
    const subject = await subjectWith(first, "FULL_TRANSITIVE");
    const info = await registry.subject(subject, "BACKWARD");
    expect(info.compatibility).toBe("FULL_TRANSITIVE");
    expect(info.versions.map((v) => v.version)).toEqual([1]);
    expect(info.versions[0]?.schema).toMatchObject({ name: "Evolving" });
    const absent = await registry.subject(resources.subject("kronos.review.absent"), "BACKWARD");
    expect(absent).toEqual({ versions: [], compatibility: "BACKWARD" });
  });

  it("says clearly when the registry cannot be reached", async () => {
    const error = await new ReviewRegistry("http://127.0.0.1:9/apis/ccompat/v7").ping().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReviewError);
    expect((error as ReviewError).code).toBe("REVIEW_REGISTRY_UNREACHABLE");
    expect((error as ReviewError).message).toContain("http://127.0.0.1:9/apis/ccompat/v7 cannot be reached");
  });
});
