import { HttpError } from "@kronos/app-kit";
import type { Delivery } from "@kronos/transport";

/** A predicate on deliveries, built from a subscription's query parameters. */
export type DeliveryFilter = (delivery: Pick<Delivery, "key" | "headers">) => boolean;

const HEADER_PREFIX = "header.";

/**
 * The filter of a subscription's query: `key=<value>` keeps messages whose key (Kafka key, AMQP routing key) is
 * exactly that; `header.<name>=<value>` keeps messages whose header `<name>` (case-insensitive name) equals the
 * value. All given conditions must hold. A repeated parameter is a 400 `INVALID_FILTER` (equality with two values
 * can never hold). Returns `undefined` when the query has no filter.
 */
export function parseFilter(query: Readonly<Record<string, unknown>>): DeliveryFilter | undefined {
  const headers: Array<[string, string]> = [];
  let key: string | undefined;
  for (const [name, value] of Object.entries(query)) {
    if (name !== "key" && !name.startsWith(HEADER_PREFIX)) continue;
    if (typeof value !== "string") {
      throw new HttpError(400, "INVALID_FILTER", `filter "${name}" must be given once, as a single value`);
    }
    if (name === "key") key = value;
    else {
      const header = name.slice(HEADER_PREFIX.length).toLowerCase();
      if (header === "") throw new HttpError(400, "INVALID_FILTER", `filter "${name}" needs a header name`);
      headers.push([header, value]);
    }
  }
  if (key === undefined && headers.length === 0) return undefined;
  return (delivery) => {
    if (key !== undefined && delivery.key !== key) return false;
    for (const [name, value] of headers) {
      if (headerValue(delivery.headers, name) !== value) return false;
    }
    return true;
  };
}

function headerValue(headers: Readonly<Record<string, string>>, lowerName: string): string | undefined {
  const direct = headers[lowerName];
  if (direct !== undefined) return direct;
  for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() === lowerName) return value;
  return undefined;
}
