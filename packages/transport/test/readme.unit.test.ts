import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RETRIABLE, type TransportErrorCode } from "../src/errors.js";
import { KAFKA_ERROR_CODES, KAFKA_ERROR_MEANINGS } from "../src/kafka/errors.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

/** The rows of the Markdown table whose header row starts with `| <first> `, as lists of cells. */
function table(first: string): string[][] {
  const lines = readme.split("\n");
  const start = lines.findIndex((line) => line.startsWith(`| ${first} `));
  expect(start, `a table starting with "${first}"`).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(
      line
        .split("|")
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

const codesIn = (cell: string) => [...cell.matchAll(/`([A-Z_]+)`/g)].map((match) => match[1] as string);

describe("the README says what the code does", () => {
  it("the publishing errors' retriable column is RETRIABLE", () => {
    const rows = table("code");
    expect(rows.length).toBeGreaterThan(0);
    for (const [codes = "", , retriable] of rows) {
      for (const code of codesIn(codes)) {
        expect(RETRIABLE[code as TransportErrorCode] ? "yes" : "no", code).toBe(retriable);
      }
    }
  });

  it("the Kafka error classification table is KAFKA_ERROR_MEANINGS and KAFKA_ERROR_CODES", () => {
    const rows = table("meaning");
    const meanings: Record<string, string> = {};
    const codes: Record<string, Record<string, string>> = { publish: {}, consume: {}, admin: {} };
    for (const [meaning = "", types = "", publish = "", consume = "", admin = ""] of rows) {
      const name = meaning.replaceAll("`", "");
      for (const type of codesIn(types)) meanings[type] = name;
      (codes.publish as Record<string, string>)[name] = codesIn(publish)[0] as string;
      (codes.consume as Record<string, string>)[name] = codesIn(consume)[0] as string;
      (codes.admin as Record<string, string>)[name] = codesIn(admin)[0] as string;
    }
    expect(meanings).toEqual(KAFKA_ERROR_MEANINGS);
    expect(codes).toEqual(KAFKA_ERROR_CODES);
  });
});
