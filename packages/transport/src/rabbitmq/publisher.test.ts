import { describe, expect, it } from "vitest";
import { amqpCloseCode, amqpPublishOptions, missingExchange } from "./publisher.js";

describe("amqpCloseCode", () => {
  it("maps a server's channel close to a code", () => {
    expect(amqpCloseCode(404)).toBe("DESTINATION_NOT_FOUND");
    expect(amqpCloseCode(406)).toBe("PUBLISH_REJECTED");
    expect(amqpCloseCode(403)).toBe("PUBLISH_REJECTED");
    expect(amqpCloseCode(541)).toBe("RABBITMQ_UNAVAILABLE");
    expect(amqpCloseCode(undefined)).toBe("RABBITMQ_UNAVAILABLE");
  });
});

describe("missingExchange", () => {
  it("reads the exchange name out of RabbitMQ's 404 text", () => {
    const text = `Channel closed by server: 404 (NOT-FOUND) with message "NOT_FOUND - no exchange 'orders.v1' in vhost '/'"`;
    expect(missingExchange(text)).toBe("orders.v1");
    expect(missingExchange(`NOT_FOUND - no exchange 'it's' in vhost 'prod'`)).toBe("it's");
    expect(missingExchange("NOT_FOUND - no queue 'q' in vhost '/'")).toBeUndefined();
  });
});

describe("amqpPublishOptions", () => {
  it("always sets persistent and mandatory, and copies only the properties given", () => {
    expect(
      amqpPublishOptions({ exchange: "e", routingKey: "k", content: Buffer.alloc(0), messageId: "m", priority: 0 }),
    ).toEqual({ persistent: true, mandatory: true, messageId: "m", priority: 0 });
    const headers = { a: "1" };
    const options = amqpPublishOptions({
      exchange: "e",
      routingKey: "k",
      content: Buffer.alloc(0),
      messageId: "m",
      headers,
      contentType: "application/octet-stream",
      correlationId: "c",
      replyTo: "r",
      timestamp: 1,
      type: "t",
    });
    expect(options).toEqual({
      persistent: true,
      mandatory: true,
      messageId: "m",
      headers: { a: "1" },
      contentType: "application/octet-stream",
      correlationId: "c",
      replyTo: "r",
      timestamp: 1,
      type: "t",
    });
    expect(options.headers).not.toBe(headers);
  });
});
