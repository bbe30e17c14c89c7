// The relay over Kafka's SASL_SSL listener with its own SCRAM user: its Kafka source (kafkajs directly, for the raw
// headers) gets the app's TLS and SASL settings too, and the stack's ACLs allow it kronos.* topics and its
// kronos.relay.* consumer groups.
import { randomUUID } from "node:crypto";
import { testEndpoints } from "@kronos/testkit";
import { describe, expect, it } from "vitest";
import { alertBytes, alertRoute, relayTestContext, waitFor } from "./helpers.js";

const { resources, brokers, relay } = relayTestContext();
const secure = testEndpoints().kafkaSecure;

describe("relay over Kafka SASL_SSL as user relay", () => {
  it("Kafka → RabbitMQ: a record of a kronos.* topic arrives on the exchange, read through its kronos.relay.* group", async () => {
    const topic = resources.topic("kronos.test.relay-sasl");
    const exchange = resources.exchange("relay-sasl-x");
    const sink = resources.queue("relay-sasl-sink");
    await brokers.createTopic(topic);
    await brokers.exchange(exchange);
    const arrived = await brokers.readQueue(exchange, sink);
    const id = `sasl-${randomUUID()}`;
    const route = alertRoute(id, topic, exchange, {
      from: { broker: "kafka", channel: "test", topic, consumerGroup: `kronos.relay.${id}` },
    });
    await relay([route], {
      KAFKA_BROKERS: secure.brokers,
      KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
      KAFKA_SASL_MECHANISM: secure.mechanism,
      KAFKA_SASL_USERNAME: secure.users.relay.username,
      KAFKA_SASL_PASSWORD_FILE: secure.users.relay.passwordFile,
      KAFKA_SSL_CA_FILE: secure.caFile,
    });
    const value = await alertBytes();
    await brokers.produce(topic, [{ key: Buffer.from("k"), value, headers: { "message-id": randomUUID() } } as never]);
    await waitFor(() => arrived.length === 1, "the copy on RabbitMQ");
    expect(arrived[0]?.content.equals(value)).toBe(true);
  });
});
