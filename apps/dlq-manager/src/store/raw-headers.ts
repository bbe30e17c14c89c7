import type { RawHeader } from "@kronos/transport";

/** The stored form of a header list (`raw_headers`): a JSON array of `[name, base64 of the value]`, in order. */
export function encodeRawHeaders(headers: ReadonlyArray<RawHeader>): string {
  return JSON.stringify(headers.map(([name, value]) => [name, value.toString("base64")]));
}

/**
 * The headers of a stored row: its `raw_headers` list (every header in order, byte for byte), or, for a row stored
 * before migration 004, its `headers` map (name → base64, the last value of each name).
 */
export function storedRawHeaders(row: { raw_headers?: unknown; headers?: unknown }): RawHeader[] {
  if (Array.isArray(row.raw_headers)) {
    return (row.raw_headers as [string, string][]).map(
      ([name, value]): RawHeader => [name, Buffer.from(value, "base64")],
    );
  }
  return Object.entries((row.headers ?? {}) as Record<string, string>).map(
    ([name, value]): RawHeader => [name, Buffer.from(value, "base64")],
  );
}

/** Name → value of a header list, the last value of a repeated name winning (the text view's rule). */
export function lastValues(headers: ReadonlyArray<RawHeader>): Record<string, Buffer> {
  return Object.fromEntries(headers);
}

/**
 * Name → value(s) of a header list, as a Kafka publisher takes them: a repeated name as an array of its values in
 * order, so a record written from it carries the same headers, byte for byte (names in order of first appearance).
 */
export function groupedValues(headers: ReadonlyArray<RawHeader>): Record<string, Buffer | Buffer[]> {
  const grouped: Record<string, Buffer | Buffer[]> = {};
  for (const [name, value] of headers) {
    const before = grouped[name];
    grouped[name] = before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
  }
  return grouped;
}
