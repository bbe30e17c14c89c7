/**
 * An AMQP header table as JSON that keeps each value's type, for storing a delivery's headers (`Delivery.amqp`) and
 * publishing them again as they came: a byte array stays a byte array, a number a number, a timestamp a timestamp.
 *
 * ```
 * amqplib's table ──amqpTableToJson──> AmqpTableJson (plain JSON: jsonb, files) ──amqpTableFromJson──> amqplib's table
 * ```
 *
 * The table is a list of `[name, value]` pairs, in the order amqplib gave the names (a JSON object would lose the
 * order in PostgreSQL's jsonb). What amqplib does not keep, this cannot either: it decodes every AMQP integer and float
 * type to a JavaScript number and encodes a number back with the smallest type that holds it (a `long` 5 comes back
 * a `byte` 5), and it decodes a long string as UTF-8 text.
 */

/** One AMQP field value with its type. */
export type AmqpValueJson =
  | { readonly type: "string"; readonly value: string }
  /** Any AMQP integer or float; a non-finite double as its text (`"NaN"`, `"Infinity"`), which JSON cannot hold. */
  | { readonly type: "number"; readonly value: number | string }
  | { readonly type: "boolean"; readonly value: boolean }
  | { readonly type: "void" }
  /** A byte array (AMQP `x`), base64. */
  | { readonly type: "bytes"; readonly base64: string }
  | { readonly type: "table"; readonly entries: AmqpTableJson }
  | { readonly type: "array"; readonly items: readonly AmqpValueJson[] }
  /** A value amqplib types explicitly, `{ "!": amqpType, value }`: `timestamp` and `decimal` when it decodes. */
  | { readonly type: "typed"; readonly amqpType: string; readonly value: AmqpValueJson };

/** An AMQP header table as {@link AmqpValueJson} pairs, in order. */
export type AmqpTableJson = ReadonlyArray<readonly [name: string, value: AmqpValueJson]>;

function valueToJson(value: unknown): AmqpValueJson {
  if (value === null || value === undefined) return { type: "void" };
  if (typeof value === "string") return { type: "string", value };
  if (typeof value === "number") return { type: "number", value: Number.isFinite(value) ? value : String(value) };
  if (typeof value === "bigint") return { type: "number", value: value.toString() };
  if (typeof value === "boolean") return { type: "boolean", value };
  if (Buffer.isBuffer(value)) return { type: "bytes", base64: value.toString("base64") };
  if (value instanceof Uint8Array) return { type: "bytes", base64: Buffer.from(value).toString("base64") };
  if (Array.isArray(value)) return { type: "array", items: value.map(valueToJson) };
  if (typeof value === "object") {
    const typed = value as { "!"?: unknown; value?: unknown };
    if (typeof typed["!"] === "string" && "value" in typed) {
      return { type: "typed", amqpType: typed["!"], value: valueToJson(typed.value) };
    }
    return { type: "table", entries: amqpTableToJson(value as Record<string, unknown>) };
  }
  // A function or a symbol cannot come from the wire; keep its text rather than fail the whole table.
  return { type: "string", value: String(value) };
}

/**
 * The JSON of an AMQP header table as amqplib decodes it (`Delivery.amqp.properties.headers`): every value with its
 * type (see {@link AmqpValueJson}), names in order. `undefined` values are left out, as amqplib leaves them out on
 * the wire. Never throws on a table amqplib decoded.
 */
export function amqpTableToJson(table: Readonly<Record<string, unknown>>): AmqpTableJson {
  return Object.entries(table)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => [name, valueToJson(value)] as const);
}

function valueFromJson(json: AmqpValueJson, path: string): unknown {
  switch (json.type) {
    case "string":
    case "boolean":
      return json.value;
    case "number":
      return typeof json.value === "number" ? json.value : Number(json.value);
    case "void":
      return null;
    case "bytes":
      return Buffer.from(json.base64, "base64");
    case "table":
      return tableFromJson(json.entries, path);
    case "array":
      return json.items.map((item, index) => valueFromJson(item, `${path}[${index}]`));
    case "typed":
      return { "!": json.amqpType, value: valueFromJson(json.value, `${path}.value`) };
    default:
      throw new TypeError(
        `AMQP header ${path}: unknown value type ${JSON.stringify((json as { type?: unknown }).type)}`,
      );
  }
}

function tableFromJson(json: AmqpTableJson, path: string): Record<string, unknown> {
  if (!Array.isArray(json)) throw new TypeError(`AMQP header table ${path || "(top)"}: not a list of [name, value]`);
  const table: Record<string, unknown> = {};
  for (const entry of json) {
    const [name, value] = entry;
    if (typeof name !== "string" || typeof value !== "object" || value === null) {
      throw new TypeError(`AMQP header table ${path || "(top)"}: an entry is not [name, value]`);
    }
    table[name] = valueFromJson(value, path ? `${path}.${name}` : name);
  }
  return table;
}

/**
 * The AMQP header table for amqplib (the `headers` of a publish) from its JSON: byte arrays as Buffers,
 * numbers as numbers, explicitly typed values as `{ "!": type, value }`, tables and arrays nested. Throws a
 * `TypeError` naming the header when the JSON is not an {@link AmqpTableJson} (e.g. it was edited by hand).
 */
export function amqpTableFromJson(json: AmqpTableJson): Record<string, unknown> {
  return tableFromJson(json, "");
}
