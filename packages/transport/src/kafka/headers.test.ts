import { describe, expect, it } from "vitest";
import { kafkaCopyHeaders, kafkaHeadersText, kafkaRawHeaders } from "./headers.js";

describe("kafkaHeadersText", () => {
  it("decodes header bytes as UTF-8, keeps the last of a repeated header, drops absent values", () => {
    expect(
      kafkaHeadersText({
        "message-id": Buffer.from("m-1"),
        "event-type": "kronos.Order",
        note: Buffer.from("héllo ✓"),
        repeated: [Buffer.from("first"), "second"],
        missing: undefined,
      }),
    ).toEqual({
      "message-id": "m-1",
      "event-type": "kronos.Order",
      note: "héllo ✓",
      repeated: "second",
    });
    expect(kafkaHeadersText(undefined)).toEqual({});
  });
});

describe("kafkaCopyHeaders", () => {
  it("keeps the original bytes of unchanged headers, takes the new text of changed and added ones, drops the rest", () => {
    const raw = {
      binary: Buffer.from([0xc3, 0x28]),
      repeated: [Buffer.from("a"), Buffer.from("b")],
      attempt: Buffer.from("1"),
      gone: "x",
    };
    const text = kafkaHeadersText(raw);
    const updated = { ...text, attempt: "2", added: "new" } as Record<string, string>;
    delete updated.gone;
    expect(kafkaCopyHeaders(raw, text, updated)).toEqual({
      binary: Buffer.from([0xc3, 0x28]),
      repeated: [Buffer.from("a"), Buffer.from("b")],
      attempt: "2",
      added: "new",
    });
  });
});

describe("kafkaRawHeaders", () => {
  it("gives every value byte for byte, a repeated header once per value in order, and leaves null values out", () => {
    const binary = Buffer.from([0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80]);
    expect(
      kafkaRawHeaders({
        "kafka_dlt-original-offset": binary,
        repeated: [Buffer.from([0xc3, 0x28]), "second"],
        text: "héllo",
        missing: undefined,
        nothing: null as unknown as undefined,
      }),
    ).toEqual([
      ["kafka_dlt-original-offset", binary],
      ["repeated", Buffer.from([0xc3, 0x28])],
      ["repeated", Buffer.from("second")],
      ["text", Buffer.from("héllo")],
    ]);
    expect(kafkaRawHeaders(undefined)).toEqual([]);
  });
});
