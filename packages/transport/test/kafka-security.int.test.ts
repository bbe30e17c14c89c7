// Kafka over SASL_SSL (the local stack's secured listener: its CA, one SCRAM user per app, ACLs per app): a round
// trip with each app's user, and a wrong password, an untrusted CA and a missing ACL, each refused with a message
// naming what to fix and never the password.
import { readFileSync } from "node:fs";
import { inspect } from "node:util";
import { TestResources, testEndpoints } from "@kronos/testkit";
import { type Admin, Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createKafkaConnection,
  createKafkaPublisher,
  createKafkaSubscription,
  type Delivery,
  type KafkaConnection,
  type KafkaSaslOptions,
  type TransportLogger,
} from "../src/index.js";

const resources = new TestResources();
const endpoints = testEndpoints();
const secure = endpoints.kafkaSecure;
const secureBrokers = secure.brokers.split(",");
const ca = readFileSync(secure.caFile, "utf8");
const password = (file: string) => readFileSync(file, "utf8").trim();
const admin: Admin = new Kafka({
  clientId: "transport-security-test",
  brokers: endpoints.kafkaBrokers.split(","),
  logLevel: logLevel.NOTHING,
}).admin();

/** Every log line the clients under test wrote (to assert no password is in any). */
const lines: string[] = [];
const record = (fields: object, message: string) => void lines.push(inspect([fields, message], { depth: 10 }));
const logger: TransportLogger = { debug: record, info: record, warn: record, error: record };
const connections: KafkaConnection[] = [];
const passwords: string[] = [];

function connect(sasl: KafkaSaslOptions, caPem = ca): KafkaConnection {
  passwords.push(sasl.password);
  const connection = createKafkaConnection({
    brokers: secureBrokers,
    clientId: `security-test-${sasl.username}`,
    logger,
    tls: { ca: caPem },
    sasl,
  });
  connections.push(connection);
  return connection;
}

/** A topic made by the plaintext (super user) admin. */
async function topic(prefix: string): Promise<string> {
  const name = resources.topic(prefix);
  await admin.createTopics({ topics: [{ topic: name }], waitForLeaders: true });
  return name;
}

/** Each app's consumer groups start with these (the stack's ACLs, local-stack `KAFKA_APP_ACCESS`). */
const GROUP_PREFIX = { gateway: "gateway.", relay: "kronos.relay.", "dlq-manager": "kronos-dlq-manager." } as const;

beforeAll(async () => {
  await admin.connect();
});

afterAll(async () => {
  await Promise.all(connections.map((connection) => connection.close()));
  await admin.disconnect();
  await resources.cleanup();
  const all = lines.join("\n");
  for (const secret of passwords) expect(all).not.toContain(secret);
});

describe("Kafka over SASL_SSL with each app's own user", () => {
  it.each(Object.keys(GROUP_PREFIX) as (keyof typeof GROUP_PREFIX)[])(
    "%s: publishes to and consumes from a kronos. topic through its own group, SCRAM-SHA-512 and -256",
    async (app) => {
      const { username, passwordFile } = secure.users[app];
      const name = await topic(`kronos.test.security-${app}`);
      const connection = connect({ mechanism: "SCRAM-SHA-512", username, password: password(passwordFile) });
      expect((await connection.checkHealth(5000)).brokers).toBeGreaterThan(0);
      const publisher = createKafkaPublisher(connection, { logger });
      const seen: Delivery[] = [];
      const subscription = createKafkaSubscription(
        connect({ mechanism: "SCRAM-SHA-256", username, password: password(passwordFile) }),
        { topic: name, groupId: `${GROUP_PREFIX[app]}${name}`, from: "earliest", consumerName: app, maxInFlight: 10 },
        async (delivery) => {
          seen.push(delivery);
          await delivery.ack();
        },
      );
      try {
        await subscription.ready;
        const ack = await publisher.publish({ topic: name, key: "k", value: Buffer.from(`hello ${app}`) });
        expect(ack).toMatchObject({ topic: name, partition: 0 });
        const deadline = Date.now() + 15_000;
        while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(seen.map((delivery) => delivery.body.toString())).toEqual([`hello ${app}`]);
      } finally {
        await subscription.close();
        await publisher.close();
      }
    },
  );
});

describe("Kafka over SASL_SSL refuses, saying what to fix", () => {
  it("a wrong password: KAFKA_ACCESS_DENIED naming the user and KAFKA_SASL_PASSWORD, never the password", async () => {
    const wrong = "not-the-password-4711";
    const error = await connect({ mechanism: "SCRAM-SHA-512", username: "gateway", password: wrong })
      .checkHealth(5000)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "KAFKA_ACCESS_DENIED", retriable: false });
    const message = (error as Error).message;
    expect(message).toContain("authentication failed for KAFKA_SASL_USERNAME=gateway (SCRAM-SHA-512)");
    expect(message).toContain("check KAFKA_SASL_PASSWORD");
    expect(message).not.toContain(wrong);
  });

  it("an untrusted CA: KAFKA_ACCESS_DENIED naming KAFKA_SSL_CA_FILE", async () => {
    const { username, passwordFile } = secure.users.relay;
    const untrusted = readFileSync(secure.untrustedCaFile, "utf8");
    const error = await connect({ mechanism: "SCRAM-SHA-512", username, password: password(passwordFile) }, untrusted)
      .checkHealth(5000)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "KAFKA_ACCESS_DENIED", retriable: false });
    expect((error as Error).message).toContain("the broker's certificate is not trusted: check KAFKA_SSL_CA_FILE");
  });

  it("a topic outside the app's ACLs: publishing is refused as not authorized, naming the topic and the user", async () => {
    const outside = await topic("outside.security");
    const { username, passwordFile } = secure.users.gateway;
    const connection = connect({ mechanism: "SCRAM-SHA-512", username, password: password(passwordFile) });
    const publisher = createKafkaPublisher(connection, { logger });
    try {
      const error = await publisher
        .publish({ topic: outside, key: null, value: Buffer.from("x") }, { timeoutMs: 10_000 })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ retriable: false });
      expect((error as Error).message).toContain(outside);
      expect((error as Error).message).toContain("not authorized by Kafka's ACLs for user gateway");
    } finally {
      await publisher.close();
    }
  });

  it("a consumer group outside the app's ACLs: the subscription does not start, naming the group and the ACLs", async () => {
    const name = await topic("kronos.test.security-group");
    const { username, passwordFile } = secure.users.relay;
    const subscription = createKafkaSubscription(
      connect({ mechanism: "SCRAM-SHA-512", username, password: password(passwordFile) }),
      { topic: name, groupId: `gateway.${name}`, consumerName: "relay", maxInFlight: 1 },
      async (delivery) => delivery.ack(),
    );
    try {
      const error = await subscription.ready.catch((e: unknown) => e);
      // kafkajs hides the GROUP_AUTHORIZATION_FAILED behind "Failed to find group coordinator" (see kafkaFailure).
      expect(error).toMatchObject({ code: "KAFKA_UNAVAILABLE" });
      expect((error as Error).message).toContain(`group "gateway.${name}"`);
      expect((error as Error).message).toContain("ACLs refuse user relay the consumer group");
    } finally {
      await subscription.close();
    }
  });
});
