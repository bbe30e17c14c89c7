import { describe, expect, it } from "vitest";
import { LOG_EVENT } from "../test/fixtures.js";
import { createAvroType } from "./avro.js";
import { validateValue } from "./validate.js";

const log = createAvroType(LOG_EVENT);
const valid = {
  level: "INFO",
  message: "started",
  labels: { region: "eu" },
  items: [{ sku: "A", qty: 1 }],
  at: new Date(0),
  traceId: null,
};

describe("validateValue", () => {
  it("returns [] for a valid value", () => {
    expect(validateValue(log, valid)).toEqual([]);
  });

  it("reports every violation with its path, not only the first", () => {
    const violations = validateValue(log, {
      ...valid,
      level: "DEBUG",
      labels: { region: 5, "odd key": "x", k: null },
      items: [
        { sku: "A", qty: 1 },
        { sku: "B", qty: 2 },
        { sku: 3, qty: 1.5 },
      ],
      at: "yesterday",
    });
    expect(violations).toEqual(
      expect.arrayContaining([
        { path: "level", message: "expected one of INFO|WARN|ERROR" },
        { path: 'labels["region"]', message: "expected string" },
        { path: 'labels["k"]', message: "expected string" },
        { path: "items[2].sku", message: "expected string" },
        { path: "items[2].qty", message: "expected int (an integer from -2^31 to 2^31-1)" },
        { path: "at", message: "expected a valid Date" },
      ]),
    );
    expect(violations).toHaveLength(6);
  });

  it("reports missing required fields and accepts missing fields with defaults", () => {
    const { message: _m, traceId: _t, ...rest } = valid;
    expect(validateValue(log, rest)).toEqual([{ path: "message", message: "missing required field" }]);
  });

  it("reports undeclared fields, and still checks the declared ones", () => {
    expect(validateValue(log, { ...valid, mesage: "typo", level: 1 })).toEqual(
      expect.arrayContaining([
        { path: "mesage", message: expect.stringMatching(/^unknown field/) },
        { path: "level", message: "expected one of INFO|WARN|ERROR" },
      ]),
    );
    const nested = validateValue(log, { ...valid, items: [{ sku: "A", qty: 1, colour: "red" }] });
    expect(nested).toEqual([{ path: "items[0].colour", message: expect.stringMatching(/^unknown field/) }]);
  });

  it("names the branches of a union and follows records inside unwrapped unions", () => {
    expect(validateValue(log, { ...valid, traceId: "not-a-uuid" })).toEqual([
      { path: "traceId", message: "expected one of null|uuid" },
    ]);
    const type = createAvroType({
      type: "record",
      name: "Holder",
      fields: [
        {
          name: "payload",
          type: ["null", { type: "record", name: "Inner", fields: [{ name: "x", type: "string" }] }],
        },
        { name: "n", type: ["int", "long"] },
      ],
    });
    expect(validateValue(type, { payload: { x: 1 }, n: { int: "1" } })).toEqual([
      { path: "payload.x", message: "expected string" },
      { path: 'n["int"]', message: "expected int (an integer from -2^31 to 2^31-1)" },
    ]);
    expect(validateValue(type, { payload: null, n: 3 })).toEqual([
      { path: "n", message: 'expected an object with exactly one key naming the branch: "int"|"long"' },
    ]);
  });

  it("reports a wrong value at the root with an empty path", () => {
    expect(validateValue(log, "nope")).toEqual([
      { path: "", message: "expected record kronos.log.LogWritten (an object)" },
    ]);
    expect(validateValue(createAvroType("string"), undefined)).toEqual([
      { path: "", message: "missing required field" },
    ]);
  });
});
