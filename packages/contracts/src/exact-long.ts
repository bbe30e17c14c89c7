import avsc from "avsc";

interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  writeLong(n: number): void;
}

const EXACT_LIMIT = 2 ** 52;

/**
 * avsc's `long`, exact for every safe integer. avsc zig-zags in floating point, so a negative long below -2^52
 * (zig-zag value above 2^53) comes back with the wrong sign or off by one; this type takes a BigInt path for those
 * magnitudes and keeps avsc's fast path (and its typeName, so union bucketing is unchanged) for the rest.
 */
export class ExactLongType extends avsc.types.LongType {
  _check(value: unknown, _flags: unknown, hook?: (value: unknown, type: avsc.Type) => void): boolean {
    const valid = typeof value === "number" && Number.isSafeInteger(value);
    if (!valid && hook) hook(value, this);
    return valid;
  }

  _read(tap: Tap): number {
    const start = tap.pos;
    const n = tap.readLong();
    if (Math.abs(n) < EXACT_LIMIT) return n;
    tap.pos = start;
    let zigzag = 0n;
    let shift = 0n;
    for (;;) {
      const byte = tap.buf[tap.pos++];
      if (byte === undefined) return 0;
      zigzag |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if ((byte & 0x80) === 0) break;
    }
    const value = zigzag & 1n ? -((zigzag + 1n) >> 1n) : zigzag >> 1n;
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new Error("potential precision loss");
    }
    return Number(value);
  }

  _write(tap: Tap, value: number): void {
    if (typeof value !== "number" || !Number.isSafeInteger(value)) {
      throw new Error(`invalid "long": ${String(value)}`);
    }
    if (Math.abs(value) <= EXACT_LIMIT) {
      tap.writeLong(value);
      return;
    }
    const n = BigInt(value);
    let zigzag = n >= 0n ? n << 1n : (-n << 1n) - 1n;
    do {
      let byte = Number(zigzag & 0x7fn);
      zigzag >>= 7n;
      if (zigzag !== 0n) byte |= 0x80;
      // Like avsc's own writes: past the end only the position moves, and the caller retries with a bigger buffer.
      if (tap.pos < tap.buf.length) tap.buf[tap.pos] = byte;
      tap.pos++;
    } while (zigzag !== 0n);
  }
}

/** avsc `typeHook`: plain `long`s (not the underlying type of a logical type) become {@link ExactLongType}. */
export function exactLongHook(schema: unknown): avsc.Type | undefined {
  const isLong =
    schema === "long" ||
    (typeof schema === "object" &&
      schema !== null &&
      (schema as { type?: unknown }).type === "long" &&
      (schema as { logicalType?: unknown }).logicalType === undefined);
  return isLong ? new ExactLongType() : undefined;
}
