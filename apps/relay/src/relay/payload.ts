// The gateway derives keys the same way (apps/gateway/src/publish/destinations.ts: valueAt, keyText, defaultKey);
// both should move down to @kronos/catalog or contracts, next to the manifest's templates they read.

/**
 * The text of the payload field at `path` (dotted, e.g. `meta.eventId`) of a decoded Avro value, as the gateway
 * writes keys: enums by their symbol, timestamps in ms, bytes in base64. Undefined when missing, null or a record.
 */
export function fieldValue(value: unknown, path: string): string | undefined {
  let current = value;
  for (const segment of path.split(".")) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  if (current === null || current === undefined) return undefined;
  if (current instanceof Date) return String(current.getTime());
  if (Buffer.isBuffer(current)) return current.toString("base64");
  if (typeof current === "object") return undefined;
  return String(current);
}

/**
 * A routing key from a template: literal text and `{field.path}` placeholders replaced by the payload's values
 * (the manifest's `x-kronos-routing-key`, e.g. `alert.{severity}.{sourceService}`). A missing field renders empty.
 */
export function renderTemplate(template: string, value: unknown): string {
  return template.replace(/\{([^}]+)\}/g, (_, path: string) => fieldValue(value, path) ?? "");
}
