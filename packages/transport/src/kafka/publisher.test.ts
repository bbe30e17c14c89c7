import { describe, expect, it } from "vitest";
import { acksFromResponse, kafkaErrorTypes, kafkaSendErrorCode } from "./publisher.js";

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

describe("kafkaSendErrorCode", () => {
  const protocolError = (type: string) => Object.assign(new Error(type), { type });

  it("finds the protocol error type in causes and aggregates", () => {
    const nested = Object.assign(new Error("retries exceeded"), {
      cause: { errors: [new Error("x"), protocolError("UNKNOWN_TOPIC_OR_PARTITION")] },
    });
    expect([...kafkaErrorTypes(nested)]).toEqual(["UNKNOWN_TOPIC_OR_PARTITION"]);
    expect(kafkaSendErrorCode(nested)).toBe("DESTINATION_NOT_FOUND");
  });

  it("maps refused records to PUBLISH_REJECTED and everything else to KAFKA_UNAVAILABLE", () => {
    expect(kafkaSendErrorCode(protocolError("MESSAGE_TOO_LARGE"))).toBe("PUBLISH_REJECTED");
    expect(kafkaSendErrorCode(protocolError("NOT_LEADER_FOR_PARTITION"))).toBe("KAFKA_UNAVAILABLE");
    expect(kafkaSendErrorCode(new Error("Connection error: connect ECONNREFUSED"))).toBe("KAFKA_UNAVAILABLE");
  });
});
