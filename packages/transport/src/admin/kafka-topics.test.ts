import { describe, expect, it } from "vitest";
import { topicVanished } from "./kafka-topics.js";

describe("a topic deleted while listing", () => {
  it("is recognised through wrappers (TransportError cause, kafkajs retries, aggregates), nothing else is", () => {
    const protocol = Object.assign(new Error("This server does not host this topic-partition"), {
      type: "UNKNOWN_TOPIC_OR_PARTITION",
    });
    const retries = new Error("retries exceeded", { cause: protocol });
    expect(topicVanished(new Error("KAFKA_UNAVAILABLE", { cause: retries }))).toBe(true);
    expect(topicVanished(Object.assign(new Error("many"), { errors: [new Error("x"), protocol] }))).toBe(true);
    expect(topicVanished(new Error("connect ECONNREFUSED"))).toBe(false);
    expect(topicVanished(undefined)).toBe(false);
  });
});
