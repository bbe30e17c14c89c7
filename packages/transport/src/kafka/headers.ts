import type { IHeaders } from "kafkajs";
import type { RawHeader } from "../consume/delivery.js";
import type { KafkaHeaderValue } from "./publisher.js";

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

/**
 * Internal to @kronos/transport: the headers of a copy of a consumed record (a retry or dead-letter copy). `text` is
 * what the consumer read (`kafkaHeadersText` of `raw`), `updated` the copy's headers as text: a header whose text is
 * unchanged keeps its original bytes (and its repeated values), an added or changed one takes the new text, and one
 * left out of `updated` is dropped. So bytes that are not UTF-8 survive the copy.
 */
export function kafkaCopyHeaders(
  raw: IHeaders | undefined,
  text: Readonly<Record<string, string>>,
  updated: Readonly<Record<string, string>>,
): Record<string, KafkaHeaderValue> {
  const copy: Record<string, KafkaHeaderValue> = {};
  for (const [name, value] of Object.entries(updated)) {
    const original = raw?.[name];
    copy[name] = original !== undefined && text[name] === value ? original : value;
  }
  return copy;
}

/**
 * Internal to @kronos/transport: Kafka record headers as bytes, as `Delivery.rawHeaders` exposes them: in the order
 * kafkajs gives the names, a repeated header once per value (in order), each value byte for byte (a string, as some
 * callers hand kafkajs, as its UTF-8); null and absent values are left out.
 */
export function kafkaRawHeaders(headers: IHeaders | undefined): RawHeader[] {
  const raw: RawHeader[] = [];
  for (const [name, value] of Object.entries(headers ?? {})) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one === undefined || one === null) continue;
      raw.push([name, typeof one === "string" ? Buffer.from(one, "utf8") : one]);
    }
  }
  return raw;
}
