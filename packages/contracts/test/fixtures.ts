/** Fixture schemas shared by the unit, property and fuzz tests. */

/** Every Avro type and Kronos logical type, recursion, nested unions, namespaces and defaults. */
export const EVERYTHING = {
  type: "record",
  name: "Everything",
  namespace: "kronos.fixtures",
  doc: "Covers every Avro type.",
  fields: [
    { name: "nothing", type: "null" },
    { name: "flag", type: "boolean" },
    { name: "count", type: "int" },
    { name: "total", type: "long" },
    { name: "ratio", type: "float" },
    { name: "precise", type: "double" },
    { name: "label", type: "string" },
    { name: "blob", type: "bytes" },
    { name: "hash", type: { type: "fixed", name: "Md5", size: 16 } },
    { name: "level", type: { type: "enum", name: "Level", symbols: ["INFO", "WARN", "ERROR"] } },
    { name: "tags", type: { type: "array", items: "string" } },
    { name: "labels", type: { type: "map", values: "string" } },
    { name: "maybeText", type: ["null", "string"], default: null },
    { name: "mixed", type: ["null", "string", "long", { type: "array", items: "int" }] },
    { name: "numbers", type: ["int", "double"] },
    {
      name: "payment",
      type: [
        "null",
        {
          type: "record",
          name: "Card",
          namespace: "kronos.fixtures.pay",
          fields: [
            { name: "last4", type: "string" },
            { name: "expires", type: { type: "int", logicalType: "date" } },
          ],
        },
        {
          type: "record",
          name: "Transfer",
          namespace: "kronos.fixtures.pay",
          fields: [{ name: "iban", type: "string" }],
        },
      ],
    },
    { name: "at", type: { type: "long", logicalType: "timestamp-millis" } },
    { name: "atMicros", type: { type: "long", logicalType: "timestamp-micros" } },
    { name: "localAt", type: { type: "long", logicalType: "local-timestamp-millis" } },
    { name: "localAtMicros", type: { type: "long", logicalType: "local-timestamp-micros" } },
    { name: "day", type: { type: "int", logicalType: "date" } },
    { name: "timeMs", type: { type: "int", logicalType: "time-millis" } },
    { name: "timeUs", type: { type: "long", logicalType: "time-micros" } },
    { name: "id", type: { type: "string", logicalType: "uuid" } },
    { name: "amount", type: { type: "bytes", logicalType: "decimal", precision: 9, scale: 2 } },
    {
      name: "fixedAmount",
      type: { type: "fixed", name: "Amount8", size: 8, logicalType: "decimal", precision: 18, scale: 4 },
    },
    { name: "unknownLogical", type: { type: "string", logicalType: "kronos-unknown" } },
    { name: "sameHash", type: "Md5" },
    {
      name: "tree",
      type: {
        type: "record",
        name: "Node",
        fields: [
          { name: "value", type: "int" },
          { name: "children", type: { type: "array", items: "Node" } },
          { name: "next", type: ["null", "Node"], default: null },
        ],
      },
    },
    {
      name: "nested",
      type: { type: "array", items: { type: "map", values: ["null", "Level", "kronos.fixtures.pay.Transfer"] } },
    },
    { name: "withDefault", type: "string", default: "hello" },
  ],
} as const;

/** A small event schema. */
export const LOG_EVENT = {
  type: "record",
  name: "LogWritten",
  namespace: "kronos.log",
  fields: [
    { name: "level", type: { type: "enum", name: "Level", symbols: ["INFO", "WARN", "ERROR"] } },
    { name: "message", type: "string" },
    { name: "labels", type: { type: "map", values: "string" } },
    {
      name: "items",
      type: {
        type: "array",
        items: {
          type: "record",
          name: "Item",
          fields: [
            { name: "sku", type: "string" },
            { name: "qty", type: "int" },
          ],
        },
      },
    },
    { name: "at", type: { type: "long", logicalType: "timestamp-millis" } },
    { name: "traceId", type: ["null", { type: "string", logicalType: "uuid" }], default: null },
  ],
} as const;

/** A linked list. */
export const LINKED_LIST = {
  type: "record",
  name: "Cell",
  namespace: "kronos.fixtures",
  fields: [
    { name: "head", type: "long" },
    { name: "tail", type: ["null", "Cell"] },
  ],
} as const;
