import { EVOLUTION_MATRIX } from "@kronos/catalog/testing";
import { TestResources, testEndpoints } from "@kronos/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { ContractError, defineEvent, RegistrySerde } from "../src/index.js";

const resources = new TestResources();
afterAll(() => resources.cleanup());
const url = testEndpoints().registryUrl;

// The pairs (with the specification's words for each) are shared with the schema review's tests.
const matrix = EVOLUTION_MATRIX;

function eventOf(schema: object, subject: string) {
  const { name, namespace } = schema as { name: string; namespace: string };
  return defineEvent<Record<string, unknown>>({ name: `${namespace}.${name}`, subject, schema, source: "matrix" });
}

async function registryVerdict(subject: string, schema: object): Promise<boolean> {
  const response = await fetch(`${url}/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest`, {
    method: "POST",
    headers: { "content-type": "application/vnd.schemaregistry.v1+json" },
    body: JSON.stringify({ schema: JSON.stringify(schema) }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { is_compatible: boolean }).is_compatible;
}

describe("schema evolution: writer → reader", () => {
  it("has at least 12 pairs", () => {
    expect(matrix.length).toBeGreaterThanOrEqual(12);
  });

  it.each(matrix)("$change", async (row) => {
    const subject = resources.subject("kronos.evo");
    const writer = eventOf(row.writer, subject);
    const reader = eventOf(row.reader, subject);
    const serde = new RegistrySerde({ url });
    await serde.register(writer, { compatibility: "BACKWARD" });
    const bytes = await serde.encode(writer, row.written);

    // (a) what our resolver-based decode does
    const outcome = await serde.decode(reader, bytes).then(
      (value) => value,
      (error: unknown) => {
        expect(error).toBeInstanceOf(ContractError);
        return (error as ContractError).code;
      },
    );
    expect(outcome).toEqual(row.read);
    // Our decode and the spec agree: it succeeds exactly when the spec says the pair is compatible.
    expect(typeof outcome !== "string").toBe(row.compatible);

    // (b) what the registry says under BACKWARD (the reader is the candidate new version)
    expect(await registryVerdict(subject, row.reader)).toBe(row.registrySays ?? row.compatible);
  });
});
