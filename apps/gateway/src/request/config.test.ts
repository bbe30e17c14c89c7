import { describe, expect, it } from "vitest";
import { DEFAULT_REPLY_TOPIC, readRequestConfig } from "./config.js";

describe("readRequestConfig", () => {
  it("defaults to kronos.gateway.replies when unset or empty", () => {
    for (const env of [{}, { GATEWAY_REPLY_TOPIC: "" }, { GATEWAY_REPLY_TOPIC: "  " }]) {
      const problems: string[] = [];
      expect(readRequestConfig(env, problems)).toEqual({ replyTopic: DEFAULT_REPLY_TOPIC });
      expect(problems).toEqual([]);
    }
  });

  it("takes a valid topic name, trimmed", () => {
    const problems: string[] = [];
    expect(readRequestConfig({ GATEWAY_REPLY_TOPIC: " team-a.gateway_replies " }, problems)).toEqual({
      replyTopic: "team-a.gateway_replies",
    });
    expect(problems).toEqual([]);
  });

  it("reports a name Kafka refuses", () => {
    for (const bad of ["with space", "slash/topic", "..", "x".repeat(250)]) {
      const problems: string[] = [];
      expect(readRequestConfig({ GATEWAY_REPLY_TOPIC: bad }, problems).replyTopic).toBe(DEFAULT_REPLY_TOPIC);
      expect(problems).toEqual([expect.stringContaining("GATEWAY_REPLY_TOPIC")]);
    }
  });
});
