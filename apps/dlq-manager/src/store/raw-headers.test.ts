import { describe, expect, it } from "vitest";
import { encodeRawHeaders, groupedValues, lastValues, storedRawHeaders } from "./raw-headers.js";

const binary = Buffer.from([0x00, 0xff, 0x80]);
const headers = [
  ["a", Buffer.from("1")],
  ["binary", binary],
  ["a", Buffer.from([0xfe])],
] as const;

describe("raw headers in the store", () => {
  it("round-trips a header list byte for byte, in order, repeated names repeated", () => {
    expect(storedRawHeaders({ raw_headers: JSON.parse(encodeRawHeaders(headers)) })).toEqual(headers);
  });

  it("reads a row stored before raw_headers from its headers map", () => {
    expect(storedRawHeaders({ raw_headers: null, headers: { binary: binary.toString("base64") } })).toEqual([
      ["binary", binary],
    ]);
  });

  it("groups repeated names for a Kafka publisher, and keeps the last value for the map", () => {
    expect(groupedValues(headers)).toEqual({ a: [Buffer.from("1"), Buffer.from([0xfe])], binary });
    expect(lastValues(headers)).toEqual({ a: Buffer.from([0xfe]), binary });
  });
});
