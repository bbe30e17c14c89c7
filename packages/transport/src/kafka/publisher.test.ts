import { describe, expect, it } from "vitest";
import { acksFromResponse } from "./publisher.js";

describe("acksFromResponse", () => {
  it("gives each record its partition's base offset plus its position within that partition", () => {
    const acks = acksFromResponse(
      ["a", "a", "b", "a", "a", "b"],
      [0, 1, 0, 0, 1, 0],
      [
        { topicName: "a", partition: 0, baseOffset: "10" },
        { topicName: "a", partition: 1, baseOffset: "7" },
        { topicName: "b", partition: 0, baseOffset: "9007199254740993" },
      ],
    );
    expect(acks).toEqual([
      { topic: "a", partition: 0, offset: "10" },
      { topic: "a", partition: 1, offset: "7" },
      { topic: "b", partition: 0, offset: "9007199254740993" },
      { topic: "a", partition: 0, offset: "11" },
      { topic: "a", partition: 1, offset: "8" },
      { topic: "b", partition: 0, offset: "9007199254740994" },
    ]);
  });

  it("throws when the answer lacks a partition that was written to", () => {
    expect(() => acksFromResponse(["a"], [2], [{ topicName: "a", partition: 0, baseOffset: "0" }])).toThrow(
      /no offset for a\[2\]/,
    );
  });
});
