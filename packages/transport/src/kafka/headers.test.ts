import { describe, expect, it } from "vitest";
import { kafkaHeadersText } from "./headers.js";

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
