/**
 * The evolution matrix: writer → reader pairs with the Avro specification's verdict (can the reader read what the
 * writer wrote: BACKWARD, the reader being the new version), the registry's answer where it differs, a record the
 * writer writes and what a resolving decode gives. One table for the contracts' evolution test (decode and the real
 * registry) and the schema review's tests (its resolution rules, and their agreement with the registry).
 *
 * Plain data: no test library is imported, so `@kronos/catalog/testing` is safe to load anywhere.
 * Spec references are to the Avro 1.11 specification, "Schema Resolution".
 */
export interface EvolutionCase {
  /** What changed, e.g. `int → long`. */
  change: string;
  writer: object;
  reader: object;
  /** The Avro specification's verdict: can the reader read everything the writer writes (BACKWARD)? */
  compatible: boolean;
  /** Incompatible pairs: the sentence the review gives for the break. */
  reason?: string;
  /** Set only where the registry's answer differs from the spec: what it really says. */
  registrySays?: boolean;
  /** A record the writer writes. */
  written: Record<string, unknown>;
  /** What a resolving decode with the reader gives, or the contracts error code it fails with. */
  read: Record<string, unknown> | "SCHEMA_RESOLUTION_FAILED";
}

function record(fields: object[], name = "Evolving", namespace = "kronos.evo"): object {
  return { type: "record", name, namespace, fields };
}
const id = { name: "id", type: "string" };
const level = (symbols: string[], extra: object = {}) => ({ type: "enum", name: "Level", symbols, ...extra });

/** The 14 pairs; every incompatible one has a `reason`. */
export const EVOLUTION_MATRIX: readonly EvolutionCase[] = [
  {
    // "if the reader's record schema has a field that contains a default value, and writer's schema does not
    // have a field with the same name, then the reader should use the default value from its field."
    change: "field added with default",
    writer: record([id]),
    reader: record([id, { name: "note", type: "string", default: "none" }]),
    compatible: true,
    written: { id: "a" },
    read: { id: "a", note: "none" },
  },
  {
    // "if the reader's record schema has a field with no default value, and writer's schema does not have a
    // field with the same name, an error is signalled."
    change: "field added without default",
    writer: record([id]),
    reader: record([id, { name: "note", type: "string" }]),
    compatible: false,
    reason:
      "`note` was added without a default: consumers on v2 cannot read messages written with v1, which have no `note` (BACKWARD)",
    written: { id: "a" },
    read: "SCHEMA_RESOLUTION_FAILED",
  },
  {
    // "if the writer's record contains a field with a name not present in the reader's record, the writer's
    // value for that field is ignored."
    change: "field removed",
    writer: record([id, { name: "note", type: "string" }]),
    reader: record([id]),
    compatible: true,
    written: { id: "a", note: "x" },
    read: { id: "a" },
  },
  {
    // Aliases: "a reader's schema can use aliases to map a writer's field name to its own".
    change: "field renamed with an alias",
    writer: record([id, { name: "note", type: "string" }]),
    reader: record([id, { name: "comment", type: "string", aliases: ["note"] }]),
    compatible: true,
    written: { id: "a", note: "x" },
    read: { id: "a", comment: "x" },
  },
  {
    // "the writer's schema may be promoted to the reader's as follows: int is promotable to long, float, or double".
    change: "int → long",
    writer: record([{ name: "n", type: "int" }]),
    reader: record([{ name: "n", type: "long" }]),
    compatible: true,
    written: { n: 7 },
    read: { n: 7 },
  },
  {
    // No rule promotes long to int: the primitive types do not match.
    change: "long → int",
    writer: record([{ name: "n", type: "long" }]),
    reader: record([{ name: "n", type: "int" }]),
    compatible: false,
    reason: "`n` changed from long to int (long cannot be promoted to int)",
    written: { n: 7 },
    read: "SCHEMA_RESOLUTION_FAILED",
  },
  {
    // Enums: the reader knows every symbol the writer can write.
    change: "enum symbol added in the reader",
    writer: record([{ name: "level", type: level(["INFO", "WARN"]) }]),
    reader: record([{ name: "level", type: level(["INFO", "WARN", "ERROR"]) }]),
    compatible: true,
    written: { level: "WARN" },
    read: { level: "WARN" },
  },
  {
    // "if the writer's symbol is not present in the reader's enum and the reader has a default value, then that
    // value is used".
    change: "enum symbol added in the writer, reader has an enum default",
    writer: record([{ name: "level", type: level(["INFO", "WARN", "ERROR"]) }]),
    reader: record([{ name: "level", type: level(["INFO", "WARN"], { default: "INFO" }) }]),
    compatible: true,
    written: { level: "ERROR" },
    read: { level: "INFO" },
  },
  {
    // "... otherwise an error is signalled."
    change: "enum symbol added in the writer, no enum default",
    writer: record([{ name: "level", type: level(["INFO", "WARN", "ERROR"]) }]),
    reader: record([{ name: "level", type: level(["INFO", "WARN"]) }]),
    compatible: false,
    reason: "enum Level at `level` lost `ERROR` and has no default symbol",
    written: { level: "ERROR" },
    read: "SCHEMA_RESOLUTION_FAILED",
  },
  {
    // "if the writer's is a union ... the first schema in the reader's union that matches the selected writer's
    // union schema is recursively resolved against it": every writer branch is in the reader's union.
    change: "union branch added in the reader",
    writer: record([{ name: "v", type: ["null", "string"] }]),
    reader: record([{ name: "v", type: ["null", "string", "int"] }]),
    compatible: true,
    written: { v: "x" },
    read: { v: "x" },
  },
  {
    // "... if none match, an error is signalled": the writer's int branch has no match in the reader.
    change: "union branch removed in the reader",
    writer: record([{ name: "v", type: ["null", "string", "int"] }]),
    reader: record([{ name: "v", type: ["null", "string"] }]),
    compatible: false,
    reason: "`v` lost union branch `int`",
    written: { v: "x" },
    read: "SCHEMA_RESOLUTION_FAILED",
  },
  {
    // "both schemas are records with the same (unqualified) name": the namespace does not take part.
    change: "namespace changed",
    writer: record([id], "Evolving", "kronos.evo"),
    reader: record([id], "Evolving", "kronos.evo.v2"),
    compatible: true,
    written: { id: "a" },
    read: { id: "a" },
  },
  {
    // "string is promotable to bytes".
    change: "string → bytes",
    writer: record([{ name: "v", type: "string" }]),
    reader: record([{ name: "v", type: "bytes" }]),
    compatible: true,
    written: { v: "hé" },
    read: { v: Buffer.from("hé") },
  },
  {
    // "bytes is promotable to string".
    change: "bytes → string",
    writer: record([{ name: "v", type: "bytes" }]),
    reader: record([{ name: "v", type: "string" }]),
    compatible: true,
    written: { v: Buffer.from("hé") },
    read: { v: "hé" },
  },
];
