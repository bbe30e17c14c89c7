import { describe, expect, it } from "vitest";
import { ContractError } from "./errors.js";
import { frame, unframe } from "./framing.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ContractError);
    return (error as ContractError).code;
  }
  return undefined;
}

describe("frame / unframe", () => {
  it("writes magic byte 0, the id big-endian, then the payload", () => {
    const framed = frame(0x01020304, Buffer.from([0xaa, 0xbb]));
    expect([...framed]).toEqual([0, 1, 2, 3, 4, 0xaa, 0xbb]);
  });

  it("reads back what it wrote", () => {
    const payload = Buffer.from("hello");
    const { schemaId, payload: read } = unframe(frame(2_147_483_647, payload));
    expect(schemaId).toBe(2_147_483_647);
    expect(read.equals(payload)).toBe(true);
  });

  it("accepts an empty payload", () => {
    expect(unframe(frame(7, Buffer.alloc(0)))).toEqual({ schemaId: 7, payload: Buffer.alloc(0) });
  });

  it.each([0, 1, 4])("refuses %i bytes as INCOMPLETE_HEADER", (length) => {
    expect(codeOf(() => unframe(Buffer.alloc(length)))).toBe("INCOMPLETE_HEADER");
  });

  it("refuses any first byte but 0 as INVALID_MAGIC_BYTE", () => {
    for (let magic = 1; magic < 256; magic++) {
      expect(codeOf(() => unframe(Buffer.from([magic, 0, 0, 0, 1])))).toBe("INVALID_MAGIC_BYTE");
    }
  });

  it.each([-1, 1.5, 2 ** 31, Number.NaN])("refuses schema id %s", (id) => {
    expect(codeOf(() => frame(id, Buffer.alloc(0)))).toBe("INVALID_SCHEMA_ID");
  });
});
