/**
 * The evolution matrix of the contracts issue (packages/contracts/test/evolution.int.test.ts): 14 writer → reader
 * pairs with the Avro specification's verdict (can the reader read what the writer wrote: BACKWARD with the reader
 * as the new version). The registry agrees with every one of them.
 */
export interface MatrixRow {
  change: string;
  writer: object;
  reader: object;
  compatible: boolean;
  /** Key words the reason must contain when the pair is incompatible. */
  reason?: string;
}

function record(fields: object[], name = "Evolving", namespace = "kronos.evo"): object {
  return { type: "record", name, namespace, fields };
}
const id = { name: "id", type: "string" };
const level = (symbols: string[], extra: object = {}) => ({ type: "enum", name: "Level", symbols, ...extra });

export const MATRIX: MatrixRow[] = [
  {
    change: "field added with default",
    writer: record([id]),
    reader: record([id, { name: "note", type: "string", default: "none" }]),
    compatible: true,
  },
  {
    change: "field added without default",
    writer: record([id]),
    reader: record([id, { name: "note", type: "string" }]),
    compatible: false,
    reason:
      "`note` was added without a default: consumers on v2 cannot read messages written with v1, which have no `note` (BACKWARD)",
  },
  {
    change: "field removed",
    writer: record([id, { name: "note", type: "string" }]),
    reader: record([id]),
    compatible: true,
  },
  {
    change: "field renamed with an alias",
    writer: record([id, { name: "note", type: "string" }]),
    reader: record([id, { name: "comment", type: "string", aliases: ["note"] }]),
    compatible: true,
  },
  {
    change: "int → long",
    writer: record([{ name: "n", type: "int" }]),
    reader: record([{ name: "n", type: "long" }]),
    compatible: true,
  },
  {
    change: "long → int",
    writer: record([{ name: "n", type: "long" }]),
    reader: record([{ name: "n", type: "int" }]),
    compatible: false,
    reason: "`n` changed from long to int (long cannot be promoted to int)",
  },
  {
    change: "enum symbol added in the reader",
    writer: record([{ name: "level", type: level(["INFO", "WARN"]) }]),
    reader: record([{ name: "level", type: level(["INFO", "WARN", "ERROR"]) }]),
    compatible: true,
  },
  {
    change: "enum symbol added in the writer, reader has an enum default",
    writer: record([{ name: "level", type: level(["INFO", "WARN", "ERROR"]) }]),
    reader: record([{ name: "level", type: level(["INFO", "WARN"], { default: "INFO" }) }]),
    compatible: true,
  },
  {
    change: "enum symbol added in the writer, no enum default",
    writer: record([{ name: "level", type: level(["INFO", "WARN", "ERROR"]) }]),
    reader: record([{ name: "level", type: level(["INFO", "WARN"]) }]),
    compatible: false,
    reason: "enum Level at `level` lost `ERROR` and has no default symbol",
  },
  {
    change: "union branch added in the reader",
    writer: record([{ name: "v", type: ["null", "string"] }]),
    reader: record([{ name: "v", type: ["null", "string", "int"] }]),
    compatible: true,
  },
  {
    change: "union branch removed in the reader",
    writer: record([{ name: "v", type: ["null", "string", "int"] }]),
    reader: record([{ name: "v", type: ["null", "string"] }]),
    compatible: false,
    reason: "`v` lost union branch `int`",
  },
  {
    change: "namespace changed",
    writer: record([id], "Evolving", "kronos.evo"),
    reader: record([id], "Evolving", "kronos.evo.v2"),
    compatible: true,
  },
  {
    change: "string → bytes",
    writer: record([{ name: "v", type: "string" }]),
    reader: record([{ name: "v", type: "bytes" }]),
    compatible: true,
  },
  {
    change: "bytes → string",
    writer: record([{ name: "v", type: "bytes" }]),
    reader: record([{ name: "v", type: "string" }]),
    compatible: true,
  },
];
