import { randomBytes } from "node:crypto";

/**
 * A name no other test uses, for a topic, queue, exchange or subject: `<prefix>-<8 hex chars>`.
 * Kafka topic names allow `[a-zA-Z0-9._-]`, so the prefix should stick to those.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}
