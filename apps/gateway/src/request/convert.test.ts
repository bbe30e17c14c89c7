import { AsyncResponseEvent } from "@kronos/events-router";
import { describe, expect, it } from "vitest";
import { jsonToAvro } from "../publish/convert.js";
import { avroToJson } from "./convert.js";

describe("avroToJson", () => {
  it("writes dates as ISO strings, bytes as base64, micros as numbers or strings", () => {
    expect(
      avroToJson({
        at: new Date("2024-05-01T12:00:00.000Z"),
        body: Buffer.from("héllo"),
        micros: 1_714_564_800_000_000n,
        huge: 2n ** 60n,
        nested: [{ when: new Date(0) }, null],
        map: { a: Buffer.from([0xff]) },
        union: { string: "x" },
        price: "12.50",
        n: 1.5,
        nan: Number.NaN,
        ok: true,
      }),
    ).toEqual({
      at: "2024-05-01T12:00:00.000Z",
      body: Buffer.from("héllo").toString("base64"),
      micros: 1_714_564_800_000_000,
      huge: "1152921504606846976",
      nested: [{ when: "1970-01-01T00:00:00.000Z" }, null],
      map: { a: "/w==" },
      union: { string: "x" },
      price: "12.50",
      n: 1.5,
      nan: null,
      ok: true,
    });
  });

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
