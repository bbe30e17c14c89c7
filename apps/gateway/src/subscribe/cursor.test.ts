import { describe, expect, it } from "vitest";
import { eventId, formatCursor, MAX_EVENT_ID_LENGTH, parseCursor } from "./cursor.js";
import { parseFilter } from "./filters.js";

describe("resume cursor", () => {
  it("never makes an event id longer than MAX_EVENT_ID_LENGTH: a cursor that would is left out", () => {
    const offsets = (n: number) => new Map(Array.from({ length: n }, (_, p): [number, string] => [p, "9".repeat(19)]));
    const fits = eventId("0123456789abcdef.1", formatCursor(offsets(200)));
    expect(fits.length).toBeLessThanOrEqual(MAX_EVENT_ID_LENGTH);
    expect(parseCursor(fits)?.size).toBe(200);
    expect(eventId("0123456789abcdef.1", formatCursor(offsets(400)))).toBe("0123456789abcdef.1");
  });

  it("rides in the event id and reads back exactly", () => {
    const id = eventId(
      "abc.7",
      formatCursor(
        new Map([
          [2, "9"],
          [0, "12345678901234"],
          [1, "0"],
        ]),
      ),
    );
    expect(id).toBe("abc.7~0-12345678901234_1-0_2-9");
    expect(parseCursor(id)).toEqual(
      new Map([
        [0, "12345678901234"],
        [1, "0"],
        [2, "9"],
      ]),
    );
  });

  it("is absent from ids without one, and a malformed one is a RangeError naming the entry", () => {
    expect(eventId("abc.7", undefined)).toBe("abc.7");
    expect(parseCursor("abc.7")).toBeUndefined();
    expect(() => parseCursor("abc.7~0-1_x")).toThrow(/"x"/);
  });
});

describe("filters", () => {
  const delivery = { key: "eu", headers: { "X-Tenant": "acme", region: "eu-west" } };

  it("keep messages whose key and headers (case-insensitive names) all match", () => {
    expect(parseFilter({ key: "eu" })?.(delivery)).toBe(true);
    expect(parseFilter({ key: "us" })?.(delivery)).toBe(false);
    expect(parseFilter({ "header.x-tenant": "acme", "header.region": "eu-west" })?.(delivery)).toBe(true);
    expect(parseFilter({ "header.x-tenant": "other" })?.(delivery)).toBe(false);
    expect(parseFilter({ "header.missing": "x" })?.(delivery)).toBe(false);
  });

  it("are absent without filter parameters, and a repeated one is a 400", () => {
    expect(parseFilter({ prefetch: 5, group: "g" })).toBeUndefined();
    expect(() => parseFilter({ key: ["a", "b"] })).toThrow(expect.objectContaining({ code: "INVALID_FILTER" }));
    expect(() => parseFilter({ "header.": "a" })).toThrow(expect.objectContaining({ code: "INVALID_FILTER" }));
  });
});
