import type { IHeaders } from "kafkajs";

/**
 * Internal to @kronos/transport: Kafka record headers as text, as a `Delivery`, a request and a reply expose them.
 * Each value is decoded as UTF-8; a repeated header keeps its last value; absent values are left out.
 */
export function kafkaHeadersText(headers: IHeaders | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers ?? {})) {
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (value === undefined) continue;
    text[name] = typeof value === "string" ? value : value.toString("utf8");
  }
  return text;
}
