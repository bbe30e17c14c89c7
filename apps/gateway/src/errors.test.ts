import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GATEWAY_ERRORS, type GatewayErrorCode } from "./errors.js";

const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");
const codes = Object.keys(GATEWAY_ERRORS) as GatewayErrorCode[];

/** The rows of the README table under `heading`: its cells, trimmed, the first one without its backticks. */
function tableUnder(heading: string): string[][] {
  const section = readme.slice(readme.indexOf(heading));
  const table: string[] = [];
  for (const line of section.split("\n").slice(1)) {
    if (line.startsWith("|")) table.push(line);
    else if (table.length > 0) break;
  }
  expect(table.length).toBeGreaterThan(2);
  return table.slice(2).map((line) =>
    line
      .split("|")
      .slice(1, -1)
      .map((cell, index) => (index === 0 ? cell.trim().replaceAll("`", "") : cell.trim())),
  );
}

describe("the gateway error table", () => {
  it("is the README's table, row for row: code, status, retriable, meaning", () => {
    const rows = tableUnder("## Errors from brokers, the registry and replies");
    expect(rows).toEqual(
      codes.map((code) => [
        code,
        String(GATEWAY_ERRORS[code].status),
        GATEWAY_ERRORS[code].retriable ? "yes" : "no",
        GATEWAY_ERRORS[code].meaning,
      ]),
    );
  });

  it("answers retriable codes 503 and nothing else 503", () => {
    for (const code of codes) expect(GATEWAY_ERRORS[code].status === 503, code).toBe(GATEWAY_ERRORS[code].retriable);
  });

  it("agrees with every status table of the README that names one of its codes", () => {
    let checked = 0;
    for (const line of readme.split("\n")) {
      const row = /^\|\s*(\d{3})\s*\|([^|]*)\|/.exec(line);
      if (!row) continue;
      for (const [, code] of (row[2] ?? "").matchAll(/`([A-Z_]+)`/g)) {
        if (!(code && code in GATEWAY_ERRORS)) continue;
        expect(row[1], `${code} in: ${line}`).toBe(String(GATEWAY_ERRORS[code as GatewayErrorCode].status));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });
});
