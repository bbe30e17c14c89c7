/**
 * The resume cursor of a Kafka subscription without a group: for every partition, the next offset to read. It rides
 * in each event's id after a `~` (`<handle>~0-42_1-17`), so the `Last-Event-ID` a reconnecting EventSource sends
 * says exactly where to resume on every partition, including those it has seen nothing from yet.
 */

const SEPARATOR = "~";
const ENTRY = /^(\d{1,9})-(\d{1,19})$/;

/** Writes a cursor: `partition-nextOffset` pairs, sorted by partition, joined by `_` (URL- and header-safe). */
export function formatCursor(nextOffsets: ReadonlyMap<number, string>): string {
  return [...nextOffsets]
    .sort(([a], [b]) => a - b)
    .map(([partition, offset]) => `${partition}-${offset}`)
    .join("_");
}

/**
 * The longest event id (= delivery handle) the gateway issues, and so the longest `:messageId` the settle routes
 * (and Fastify's `maxParamLength`) accept: 8192 characters. A handle is 16 hex digits, a dot and a sequence number;
 * a Kafka tail adds its cursor, at most 30 characters per partition (`<partition>-<offset>_`), so a topic of up to
 * about 270 partitions (500 with offsets below 10^10) keeps its cursor in every id.
 */
export const MAX_EVENT_ID_LENGTH = 8192;

/**
 * An event id: the delivery handle, then the cursor when there is one. A cursor that would make the id longer than
 * {@link MAX_EVENT_ID_LENGTH} is left out (the event can still be settled; a reconnect then resumes from `from`).
 */
export function eventId(handle: string, cursor: string | undefined): string {
  if (cursor === undefined || handle.length + 1 + cursor.length > MAX_EVENT_ID_LENGTH) return handle;
  return `${handle}${SEPARATOR}${cursor}`;
}

/**
 * Reads the cursor out of a `Last-Event-ID`. Returns `undefined` when the id carries none (a RabbitMQ or group
 * subscription's id), and throws a `RangeError` naming the problem when it carries a malformed one.
 */
export function parseCursor(lastEventId: string): Map<number, string> | undefined {
  const at = lastEventId.indexOf(SEPARATOR);
  if (at < 0) return undefined;
  const text = lastEventId.slice(at + 1);
  const offsets = new Map<number, string>();
  for (const entry of text.split("_")) {
    const match = ENTRY.exec(entry);
    if (!match) throw new RangeError(`Last-Event-ID cursor entry "${entry}" is not <partition>-<offset>`);
    offsets.set(Number(match[1]), BigInt(match[2] as string).toString());
  }
  return offsets;
}
