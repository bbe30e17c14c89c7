import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { type AmqpTableJson, amqpTableFromJson, amqpTableToJson } from "./header-table.js";

// amqplib's own field-table codec (not in its exports map, so loaded by path): the tables below go through the same
// bytes a broker carries.
const require = createRequire(import.meta.url);
const codec = require(join(dirname(require.resolve("amqplib")), "lib", "codec.js")) as {
  encodeTable(buffer: Buffer, table: Record<string, unknown>, offset: number): number;
  decodeFields(slice: Buffer): Record<string, unknown>;
};

/** The table as bytes on the wire (without the 4-byte length), and its type tags in order. */
function wire(table: Record<string, unknown>): Buffer {
  const buffer = Buffer.alloc(4096);
  const size = codec.encodeTable(buffer, table, 0);
  return buffer.subarray(4, size);
}
const decoded = (table: Record<string, unknown>) => codec.decodeFields(wire(table));
/** Through JSON text, as a jsonb column stores it. */
const stored = (json: AmqpTableJson): AmqpTableJson => JSON.parse(JSON.stringify(json));

const original = {
  text: "héllo",
  bytes: Buffer.from([0xff, 0x00, 0x81]),
  small: 42,
  large: 2 ** 40,
  negative: -70_000,
  ratio: 0.25,
  yes: true,
  nothing: null,
  when: { "!": "timestamp", value: 1_700_000_000 },
  price: { "!": "decimal", value: { places: 2, digits: 1234 } },
  nested: { inner: Buffer.from("x"), count: 3, deeper: { flag: false } },
  list: [1, "two", Buffer.from([3]), { k: "v" }, [true]],
};

describe("amqpTableToJson / amqpTableFromJson", () => {
  it("gives back, through JSON text, a table whose wire bytes are the original's", () => {
    const received = decoded(original);
    const back = amqpTableFromJson(stored(amqpTableToJson(received)));
    expect(wire(back).equals(wire(received))).toBe(true);
    expect(decoded(back)).toEqual(received);
  });

  it("keeps each value's type: bytes stay bytes, numbers numbers, timestamps timestamps", () => {
    const back = amqpTableFromJson(stored(amqpTableToJson(decoded(original))));
    expect(Buffer.isBuffer(back.bytes) && back.bytes.equals(original.bytes)).toBe(true);
    expect(back.small).toBe(42);
    expect(back.large).toBe(2 ** 40);
    expect(back.ratio).toBe(0.25);
    expect(back.yes).toBe(true);
    expect(back.nothing).toBeNull();
    expect(back.when).toEqual({ "!": "timestamp", value: 1_700_000_000 });
    expect(back.price).toEqual({ "!": "decimal", value: { places: 2, digits: 1234 } });
    expect((back.nested as { inner: Buffer }).inner).toEqual(Buffer.from("x"));
    expect(back.list).toEqual([1, "two", Buffer.from([3]), { k: "v" }, [true]]);
  });

  it("writes a readable JSON with the names in order", () => {
    const json = amqpTableToJson({ b: Buffer.from("hi"), a: 1, when: { "!": "timestamp", value: 5 } });
    expect(json).toEqual([
      ["b", { type: "bytes", base64: "aGk=" }],
      ["a", { type: "number", value: 1 }],
      ["when", { type: "typed", amqpType: "timestamp", value: { type: "number", value: 5 } }],
    ]);
  });

  it("keeps non-finite numbers, which JSON cannot hold, and leaves undefined values out", () => {
    const json = stored(amqpTableToJson({ nan: Number.NaN, inf: Number.POSITIVE_INFINITY, gone: undefined }));
    expect(json.map(([name]) => name)).toEqual(["nan", "inf"]);
    const back = amqpTableFromJson(json);
    expect(back.nan).toBeNaN();
    expect(back.inf).toBe(Number.POSITIVE_INFINITY);
  });

  it("names the header when the JSON is not a table it wrote", () => {
    expect(() => amqpTableFromJson({} as unknown as AmqpTableJson)).toThrow(/not a list/);
    expect(() => amqpTableFromJson([["x", { type: "float128", value: 1 }]] as unknown as AmqpTableJson)).toThrow(
      /AMQP header x: unknown value type "float128"/,
    );
    expect(() =>
      amqpTableFromJson([["t", { type: "table", entries: [["deep", { type: "?" }]] }]] as unknown as AmqpTableJson),
    ).toThrow(/AMQP header t\.deep/);
  });
});
