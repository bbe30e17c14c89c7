import { describe, expect, it } from "vitest";
import { cloudEventHeaders, isCloudEventsHeader, readCloudEvent } from "./cloudevents.js";

const attributes = {
  id: "5b5d847a-0000-4000-8000-000000000001",
  type: "kronos.gaia.CriticalAlert",
  source: "/kronos/producers/gaia",
  time: "2026-12-07T16:00:00.000Z",
  traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
};

describe("CloudEvents binary mode", () => {
  it("writes the Kafka binding's ce_ headers and the AMQP binding's cloudEvents_ headers from the same values", () => {
    expect(cloudEventHeaders("kafka", attributes)).toEqual({
      ce_specversion: "1.0",
      ce_id: attributes.id,
      ce_type: attributes.type,
      ce_source: attributes.source,
      ce_time: attributes.time,
      ce_traceparent: attributes.traceparent,
    });
    expect(Object.keys(cloudEventHeaders("rabbitmq", { ...attributes, traceparent: undefined }))).toEqual([
      "cloudEvents_specversion",
      "cloudEvents_id",
      "cloudEvents_type",
      "cloudEvents_source",
      "cloudEvents_time",
    ]);
  });

  it("reads them back under any of the bindings' prefixes, and nothing from a message that is not a CloudEvent", () => {
    expect(readCloudEvent(cloudEventHeaders("kafka", attributes))).toEqual(attributes);
    expect(readCloudEvent(cloudEventHeaders("rabbitmq", attributes))).toEqual(attributes);
    const amqp10 = Object.fromEntries(
      Object.entries(cloudEventHeaders("rabbitmq", attributes)).map(([k, v]) => [k.replace("_", ":"), v]),
    );
    expect(readCloudEvent(amqp10)).toEqual(attributes);
    expect(readCloudEvent({ ce_id: "x", ce_type: "t", ce_source: "/s" })).toBeUndefined(); // no specversion
    expect(readCloudEvent({ "message-id": "x" })).toBeUndefined();
  });

  it("tells the bindings' headers from others", () => {
    expect(["ce_id", "CE_type", "cloudEvents_id", "cloudevents:source"].every(isCloudEventsHeader)).toBe(true);
    expect(["cent", "message-id", "event-type"].some(isCloudEventsHeader)).toBe(false);
  });
});
