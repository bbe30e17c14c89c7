import { describe, expect, it } from "vitest";
import { nullSinkPublishers, readBenchNullSink } from "./bench-null-sink.js";

describe("GATEWAY_BENCH_NULL_SINK", () => {
  it("is off unless set to 1", () => {
    for (const value of [undefined, "", " ", "0"]) {
      const problems: string[] = [];
      expect(readBenchNullSink({ GATEWAY_BENCH_NULL_SINK: value }, problems)).toBe(false);
      expect(problems).toEqual([]);
    }
    expect(readBenchNullSink({ GATEWAY_BENCH_NULL_SINK: "1" }, [])).toBe(true);
  });

  it("refuses other values and production, naming the variable", () => {
    const problems: string[] = [];
    expect(readBenchNullSink({ GATEWAY_BENCH_NULL_SINK: "yes" }, problems)).toBe(false);
    expect(readBenchNullSink({ GATEWAY_BENCH_NULL_SINK: "1", NODE_ENV: "production" }, problems)).toBe(false);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/GATEWAY_BENCH_NULL_SINK="yes"/);
    expect(problems[1]).toMatch(/GATEWAY_BENCH_NULL_SINK=1 is refused when NODE_ENV=production/);
  });

  it("acks without sending", async () => {
    const { kafka, amqp } = nullSinkPublishers();
    await expect(kafka.publish({ topic: "t", value: Buffer.from("x") })).resolves.toEqual({
      topic: "t",
      partition: 0,
      offset: "0",
    });
    await expect(
      amqp.publish({ exchange: "e", routingKey: "k", content: Buffer.from("x"), messageId: "m" }),
    ).resolves.toBeUndefined();
  });
});
