import { TestResources, testEndpoints } from "@kronos/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { ContractError, type ContractErrorCode, defineEvent, RegistrySerde } from "../src/index.js";

const resources = new TestResources();
afterAll(() => resources.cleanup());
const url = testEndpoints().registryUrl;

function record(fields: object[], name = "Evolving", namespace = "kronos.evo"): object {
  return { type: "record", name, namespace, fields };
}
const id = { name: "id", type: "string" };

interface Row {
  change: string;
  writer: object;
  reader: object;
  written: Record<string, unknown>;
  /** What our resolver-based decode gives (the reader's view), or the ContractError code it throws. */
  read: Record<string, unknown> | ContractErrorCode;
  /** The Avro specification's verdict: can the reader read everything the writer writes (BACKWARD)? */
  compatible: boolean;
  /** Set only where the registry's answer differs from the spec: what it really says. */
  registrySays?: boolean;
}

const level = (symbols: string[], extra: object = {}) => ({ type: "enum", name: "Level", symbols, ...extra });

// Spec references are to the Avro 1.11 specification, "Schema Resolution".
const matrix: Row[] = [
  {
    // "if the reader's record schema has a field that contains a default value, and writer's schema does not
    // have a field with the same name, then the reader should use the default value from its field."
    change: "field added with default",
    writer: record([id]),
    reader: record([id, { name: "note", type: "string", default: "none" }]),
    written: { id: "a" },
    read: { id: "a", note: "none" },
    compatible: true,
  },
  {
    // "if the reader's record schema has a field with no default value, and writer's schema does not have a
    // field with the same name, an error is signalled."
    change: "field added without default",
    writer: record([id]),
    reader: record([id, { name: "note", type: "string" }]),
    written: { id: "a" },
    read: "SCHEMA_RESOLUTION_FAILED",
    compatible: false,
  },
  {
    // "if the writer's record contains a field with a name not present in the reader's record, the writer's
    // value for that field is ignored."
    change: "field removed",
    writer: record([id, { name: "note", type: "string" }]),
    reader: record([id]),
    written: { id: "a", note: "x" },
    read: { id: "a" },
    compatible: true,
  },
  {
    // Aliases: "a reader's schema can use aliases to map a writer's field name to its own".
    change: "field renamed with an alias",
    writer: record([id, { name: "note", type: "string" }]),
    reader: record([id, { name: "comment", type: "string", aliases: ["note"] }]),
    written: { id: "a", note: "x" },
    read: { id: "a", comment: "x" },
    compatible: true,
  },
  {
    // "the writer's schema may be promoted to the reader's as follows: int is promotable to long, float, or double".
    change: "int → long",
    writer: record([{ name: "n", type: "int" }]),
    reader: record([{ name: "n", type: "long" }]),
    written: { n: 7 },
    read: { n: 7 },
    compatible: true,
  },
  {
    // No rule promotes long to int: the primitive types do not match.
    change: "long → int",
    writer: record([{ name: "n", type: "long" }]),
    reader: record([{ name: "n", type: "int" }]),
    written: { n: 7 },
    read: "SCHEMA_RESOLUTION_FAILED",
    compatible: false,
  },
  {
    // Enums: the reader knows every symbol the writer can write.
    change: "enum symbol added in the reader",
    writer: record([{ name: "level", type: level(["INFO", "WARN"]) }]),
    reader: record([{ name: "level", type: level(["INFO", "WARN", "ERROR"]) }]),
    written: { level: "WARN" },
    read: { level: "WARN" },
    compatible: true,
  },
  {
    // "if the writer's symbol is not present in the reader's enum and the reader has a default value, then that
    // value is used".
    change: "enum symbol added in the writer, reader has an enum default",
    writer: record([{ name: "level", type: level(["INFO", "WARN", "ERROR"]) }]),
    reader: record([{ name: "level", type: level(["INFO", "WARN"], { default: "INFO" }) }]),
    written: { level: "ERROR" },
    read: { level: "INFO" },
    compatible: true,
  },
  {
    // "... otherwise an error is signalled."
    change: "enum symbol added in the writer, no enum default",
    writer: record([{ name: "level", type: level(["INFO", "WARN", "ERROR"]) }]),
    reader: record([{ name: "level", type: level(["INFO", "WARN"]) }]),
    written: { level: "ERROR" },
    read: "SCHEMA_RESOLUTION_FAILED",
    compatible: false,
  },
  {
    // "if the writer's is a union ... the first schema in the reader's union that matches the selected writer's
    // union schema is recursively resolved against it": every writer branch is in the reader's union.
    change: "union branch added in the reader",
    writer: record([{ name: "v", type: ["null", "string"] }]),
    reader: record([{ name: "v", type: ["null", "string", "int"] }]),
    written: { v: "x" },
    read: { v: "x" },
    compatible: true,
  },
  {
    // "... if none match, an error is signalled": the writer's int branch has no match in the reader.
    change: "union branch removed in the reader",
    writer: record([{ name: "v", type: ["null", "string", "int"] }]),
    reader: record([{ name: "v", type: ["null", "string"] }]),
    written: { v: "x" },
    read: "SCHEMA_RESOLUTION_FAILED",
    compatible: false,
  },
  {
    // "both schemas are records with the same (unqualified) name": the namespace does not take part.
    change: "namespace changed",
    writer: record([id], "Evolving", "kronos.evo"),
    reader: record([id], "Evolving", "kronos.evo.v2"),
    written: { id: "a" },
    read: { id: "a" },
    compatible: true,
  },
  {
    // "string is promotable to bytes".
    change: "string → bytes",
    writer: record([{ name: "v", type: "string" }]),
    reader: record([{ name: "v", type: "bytes" }]),
    written: { v: "hé" },
    read: { v: Buffer.from("hé") },
    compatible: true,
  },
  {
    // "bytes is promotable to string".
    change: "bytes → string",
    writer: record([{ name: "v", type: "bytes" }]),
    reader: record([{ name: "v", type: "string" }]),
    written: { v: Buffer.from("hé") },
    read: { v: "hé" },
    compatible: true,
  },
];

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
