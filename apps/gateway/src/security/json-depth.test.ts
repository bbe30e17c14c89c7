import { describe, expect, it } from "vitest";
import { jsonDepthExceeds, MAX_JSON_DEPTH } from "./json-depth.js";

const nested = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;

describe("JSON nesting depth", () => {
  it("allows MAX_JSON_DEPTH levels and refuses one more, arrays and objects alike", () => {
    expect(jsonDepthExceeds(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonDepthExceeds(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(jsonDepthExceeds(`${'{"a":'.repeat(MAX_JSON_DEPTH + 1)}1${"}".repeat(MAX_JSON_DEPTH + 1)}`)).toBe(true);
    expect(jsonDepthExceeds(nested(4000))).toBe(true);
  });

  it("does not count brackets inside strings, escaped quotes included", () => {
    const text = JSON.stringify({ a: "[".repeat(1000), b: '\\"{{{{', c: [[["x"]]] });
    expect(jsonDepthExceeds(text, 4)).toBe(false);
    expect(jsonDepthExceeds(text, 3)).toBe(true);
  });

  it("counts depth, not brackets: siblings do not add up", () => {
    expect(jsonDepthExceeds(`[${Array.from({ length: 1000 }, () => "[]").join(",")}]`, 2)).toBe(false);
  });

  it("ends a string at a quote after an even number of backslashes only", () => {
    // "x\\" ends after its two escaped backslashes; "y\"[[" does not end at the escaped quote.
    const text = JSON.stringify({ a: "x\\", b: [[1]], c: 'y\\"[[[[', d: "\\\\" });
    expect(jsonDepthExceeds(text, 3)).toBe(false);
    expect(jsonDepthExceeds(text, 2)).toBe(true);
    expect(jsonDepthExceeds('["unterminated [[[[', 1)).toBe(false);
  });
});
