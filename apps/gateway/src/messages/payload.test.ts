import { avroToJson, jsonToAvro } from "@kronos/contracts";
import { AsyncResponseEvent } from "@kronos/events-router";
import { describe, expect, it } from "vitest";

// The converter stage is @kronos/contracts' (its own tests: packages/contracts/src/json.test.ts); this holds it to
// a generated event of the gateway's, JSON in and out as the routes see it.
describe("the converter stage on the gateway's events", () => {
  it("is the reverse of the publish path's jsonToAvro: a decoded event converts back to what was published", () => {
    const json = {
      meta: {
        eventId: "7b4c0c3e-2f61-4c55-9d8e-1b1f2c3d4e5f",
        occurredAt: "2024-05-01T12:00:00.000Z",
        producer: "user",
        correlationId: null,
        traceparent: null,
      },
      requestId: "5f1c0c3e-2f61-4c55-9d8e-1b1f2c3d4e5f",
      fromService: "user",
      toService: "gateway",
      replyTo: "amq.rabbitmq.reply-to.x",
      status: "OK",
      errorCode: null,
      errorMessage: null,
      contentType: "application/json",
      body: Buffer.from('{"id":42}').toString("base64"),
      durationMillis: 3,
    };
    const { value, violations } = jsonToAvro(AsyncResponseEvent.type, json);
    expect(violations).toEqual([]);
    const decoded = AsyncResponseEvent.decode(AsyncResponseEvent.encode(value as never));
    expect(avroToJson(decoded)).toEqual(json);
  });
});
