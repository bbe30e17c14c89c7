import { describe, expect, it } from "vitest";
import { eventId, formatCursor, parseCursor } from "./cursor.js";
import { parseFilter } from "./filters.js";

describe("resume cursor", () => {
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
