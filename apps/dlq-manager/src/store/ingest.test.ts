import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor, filterSql } from "./filter.js";
import { dedupKey, errorFingerprint, modelOf, schemaIdOf } from "./ingest.js";

describe("what custody stores", () => {
  it("fingerprints an error by its shape: ids, numbers and quoted values do not split it", () => {
    const a = errorFingerprint(
      "CLIENT_RETRY",
      'order 123 of "alice" timed out (id 5f0c7a4e-1b2c-4d5e-8f90-123456789abc)',
    );
    const b = errorFingerprint("CLIENT_RETRY", 'order 9 of "bob" timed out (id 00000000-0000-4000-8000-000000000000)');
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(errorFingerprint("REJECTED", "order 9 timed out")).not.toBe(
      errorFingerprint("CLIENT_RETRY", "order 9 timed out"),
    );
  });

  it("keys a Kafka dead letter by its position and a RabbitMQ one by its bytes and headers", () => {
    const body = Buffer.from("x");
    expect(dedupKey({ broker: "kafka", source: "t.dlq", partition: 1, offset: "7", body, headers: {} })).toBe(
      "kafka:t.dlq:1:7",
    );
    const amqp = (headers: Record<string, Buffer>) => dedupKey({ broker: "rabbitmq", source: "q.dlq", body, headers });
    const first = amqp({ a: Buffer.from("1"), b: Buffer.from("2") });
    expect(amqp({ b: Buffer.from("2"), a: Buffer.from("1") })).toBe(first);
    expect(amqp({ a: Buffer.from("1"), b: Buffer.from("3") })).not.toBe(first);
  });

  it("reads the frame's schema id only from a Confluent frame", () => {
    expect(schemaIdOf(Buffer.from([0, 0, 0, 1, 2, 9]))).toBe(258);
    expect(schemaIdOf(Buffer.from([1, 0, 0, 1, 2]))).toBeUndefined();
    expect(schemaIdOf(Buffer.from([0, 0, 0]))).toBeUndefined();
  });

  it("links a replayed copy that failed again to the dead letter it came from", () => {
    const model = modelOf({
      "x-kronos-dl-reason": Buffer.from("rejected"),
      "x-kronos-replay-job-id": Buffer.from("4"),
      "x-kronos-replay-count": Buffer.from("2"),
      "x-kronos-replay-dead-letter-id": Buffer.from("17"),
    });
    expect(model).toMatchObject({ dialect: "kronos", replayOf: { jobId: "4", count: 2, deadLetterId: "17" } });
    expect(modelOf({ "content-type": Buffer.from("x") })).toEqual({ dialect: "unknown" });
  });

  it("turns filters into parameterised SQL and cursors back into ids", () => {
    expect(filterSql({ source: "a", error: "50%_off" }, 2)).toEqual({
      where: "source = $3 AND error_text ILIKE $4",
      params: ["a", "%50\\%\\_off%"],
    });
    expect(decodeCursor(encodeCursor("42"))).toBe("42");
    expect(() => decodeCursor("garbage")).toThrow(/cursor/);
  });
});
