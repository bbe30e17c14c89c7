const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Turns a decoded Avro value (the JS representation @kronos/contracts gives) into JSON, the reverse of the publish
 * path's `jsonToAvro`, so a reply reads like a publish payload is written:
 *
 * - `Date` (timestamp-millis) → ISO-8601 string with `Z`;
 * - `bigint` (timestamp-micros) → a number when it is a safe integer, else its decimal string;
 * - `Buffer` (bytes, fixed) → base64;
 * - records, maps, arrays and wrapped unions (`{ "<branch>": value }`) are walked; strings (decimal, date, uuid),
 *   numbers, booleans and null stay as they are (`NaN` and infinities become `null`, as in `JSON.stringify`).
 */
export function avroToJson(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString("base64");
  if (typeof value === "bigint") return value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(avroToJson);
  if (typeof value === "object") {
    const json: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) json[key] = avroToJson(item);
    return json;
  }
  if (typeof value === "number" && !Number.isFinite(value)) return null;
  return value;
}
